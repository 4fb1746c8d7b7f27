"""The chat's stylesheet and the small scripts behind its HTML panels (event delegation: the HTML is
re-rendered by the server, the listeners stay on the component's element)."""

CSS = """
.lq-header { display:flex; align-items:baseline; gap:1em; flex-wrap:wrap; }
.lq-header h1 { font-size:1.4em; margin:0; }
.lq-header span { color: var(--body-text-color-subdued); }
.lq-ws { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; font-size:16px; line-height:1.7; }
.lq-tabs { display:none; }
.lq-chat, .lq-panel { height: 62vh; overflow-y:auto; padding:8px 12px; border:1px solid var(--border-color-primary);
  border-radius:8px; background: var(--background-fill-primary); }
.lq-turn { margin-bottom:18px; }
.lq-q { margin-left:auto; max-width:85%; width:fit-content; background: var(--background-fill-secondary);
  padding:6px 12px; border-radius:12px; margin-bottom:6px; }
.lq-a { padding:8px 12px; border-left:3px solid transparent; cursor:default; }
.lq-selected .lq-a { border-left-color: var(--color-accent); }
.lq-a p, .lq-a ul { margin:0 0 6px 0; }
.lq-chip { border:1px solid var(--color-accent); color: var(--color-accent); background:transparent;
  border-radius:10px; padding:0 6px; margin:0 2px; font-size:.85em; cursor:pointer; line-height:1.5; }
.lq-chip:hover, .lq-chip:focus { background: var(--color-accent); color:white; }
.lq-understood { background: var(--background-fill-secondary); border-radius:6px; padding:2px 8px; font-size:.92em; }
.lq-understood .lq-link { margin-left:10px; font-size:.9em; }
.lq-refusal { color: var(--body-text-color); }
.lq-error { color: var(--error-text-color, #b91c1c); }
.lq-filter-note { background: var(--background-fill-secondary); padding:6px 10px; border-radius:6px; }
.lq-suggestions { display:flex; flex-wrap:wrap; gap:6px; align-items:center; margin:6px 0; }
.lq-suggest { border:1px solid var(--border-color-primary); border-radius:14px; padding:2px 10px;
  background: var(--background-fill-secondary); cursor:pointer; font-size:.92em; text-align:left; }
.lq-tools { display:flex; gap:6px; align-items:center; flex-wrap:wrap; font-size:.9em; }
.lq-btn { border:1px solid var(--border-color-primary); border-radius:6px; padding:1px 8px; cursor:pointer;
  background: var(--background-fill-primary); }
.lq-danger { color:#b91c1c; }
.lq-link { border:none; background:none; color: var(--color-accent); cursor:pointer; padding:0; }
.lq-latency, .lq-muted, .lq-asked { color: var(--body-text-color-subdued); font-size:.9em; }
.lq-thanks { color: #15803d; }
.lq-down { display:flex; flex-wrap:wrap; gap:8px; margin-top:6px; font-size:.9em; }
.lq-down select, .lq-down input { max-width:100%; border:1px solid var(--border-color-primary); border-radius:4px; }
.lq-hidden { display:none !important; }
.lq-panel h3 { font-size:1.1em; margin:4px 0; }
.lq-panel h4 { font-size:1em; margin:14px 0 4px; color: var(--body-text-color-subdued); }
.lq-source { border:1px solid var(--border-color-primary); border-radius:6px; padding:6px 10px; margin:6px 0; }
.lq-source summary { cursor:pointer; }
.lq-num { font-weight:bold; color: var(--color-accent); }
.lq-path { display:block; color: var(--body-text-color-subdued); margin:4px 0; }
.lq-passage { margin:4px 0; }
mark { background:#fde68a; color:#1f2937; padding:0 1px; }
.lq-flash { outline:3px solid var(--color-accent); transition: outline .3s; }
table.lq-cross, table.lq-library { border-collapse:collapse; width:100%; }
.lq-cross td, .lq-cross th, .lq-library td, .lq-library th { border:1px solid var(--border-color-primary);
  padding:4px 6px; vertical-align:top; text-align:left; }
.lq-library td:last-child { white-space:nowrap; }
.lq-filters { display:flex; gap:6px; flex-wrap:wrap; }
.lq-filter { background: var(--background-fill-secondary); border:1px solid var(--color-accent);
  border-radius:14px; padding:1px 4px 1px 10px; }
.lq-filter button { border:none; background:none; cursor:pointer; font-size:1.1em; padding:0 6px; }
.lq-warn { color:#b45309; } .lq-ok { color:#15803d; }
.lq-letter-cols { display:grid; grid-template-columns: 240px minmax(0,1fr); gap:16px; }
.lq-outline { max-height:70vh; overflow-y:auto; font-size:.9em; }
.lq-outline ul { list-style:none; padding-left:0; }
.lq-d1 { padding-left:1em; } .lq-d2 { padding-left:2em; } .lq-d3 { padding-left:3em; }
.lq-letter-text { max-height:70vh; overflow-y:auto; white-space:pre-wrap; line-height:1.8; font-size:16px; }
.lq-block { padding:2px 4px; }
.lq-focus { background:#fef3c7; color:#1f2937; border-left:3px solid #d97706; }
.lq-cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(280px,1fr)); gap:10px; }
.lq-card { border:1px solid var(--border-color-primary); border-radius:8px; padding:8px 12px; }
.lq-card dl { display:grid; grid-template-columns:auto 1fr; gap:2px 10px; margin:6px 0 0; }
.lq-card dt { color: var(--body-text-color-subdued); }
.lq-good { border-left:4px solid #15803d; } .lq-bad { border-left:4px solid #b91c1c; }
.lq-steps { display:flex; gap:18px; flex-wrap:wrap; padding-left:1.2em; }
.lq-steps .lq-done { color:#15803d; } .lq-steps .lq-now { font-weight:bold; }
@media (max-width: 768px) {
  .lq-ws { display:block; }
  .lq-tabs { display:flex; position:sticky; top:0; z-index:2; background: var(--background-fill-primary); }
  .lq-tabs button { flex:1; padding:8px; border:1px solid var(--border-color-primary); background:none; }
  .lq-ws:not(.lq-show-sources) .lq-tabs button[data-tab=chat],
  .lq-ws.lq-show-sources .lq-tabs button[data-tab=sources] { border-bottom:3px solid var(--color-accent); font-weight:bold; }
  .lq-ws.lq-show-sources .lq-chat { display:none; }
  .lq-ws:not(.lq-show-sources) .lq-panel { display:none; }
  .lq-chat, .lq-panel { height: 58vh; }
  #lq-input-row { flex-wrap: wrap; } #lq-input-row > * { min-width: 100% !important; }
  .lq-letter-cols { display:block; } .lq-outline { max-height:none; }
  .lq-cross thead { display:none; } .lq-cross tr { display:block; border-bottom:2px solid var(--border-color-primary); }
  .lq-cross td { display:block; border:none; padding:2px 4px; }
  .lq-library thead { display:none; } .lq-library tr { display:block; border-bottom:2px solid var(--border-color-primary); }
  .lq-library td { display:block; border:none; }
  .lq-library td[data-label]::before { content: attr(data-label) "："; color: var(--body-text-color-subdued); }
}
"""

WORKSPACE_JS = r"""
document.documentElement.lang = 'zh-CN';  // Gradio's page says "en": screen readers would read Chinese as English
const ws = () => element.querySelector('.lq-ws');
let pending = null;  // a citation to open once the server has sent its turn's sources
function showTurn(id) {  // true when the turn's sources are on the page; else they are asked for
  if (element.querySelector('.lq-sources[data-turn="' + id + '"]')) return true;
  trigger('click', {act: 'select', turn: id});
  return false;
}
function openCite(turn, n) {
  const card = element.querySelector('#src-' + turn + '-' + n);
  const panel = element.querySelector('.lq-panel');
  if (!card) return;
  card.open = true;  // scroll the panel only: the page itself stays where the reader is
  panel.scrollTop += card.getBoundingClientRect().top - panel.getBoundingClientRect().top - 4;
  const top = ws().getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight / 2) ws().scrollIntoView({block: 'start'});
  card.classList.add('lq-flash'); setTimeout(() => card.classList.remove('lq-flash'), 1500);
}
function copy(text, button) {
  const done = () => { button.textContent = '已复制'; setTimeout(() => button.textContent = '复制答案（含出处）', 1500); };
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, done); return; }
  const area = document.createElement('textarea'); area.value = text; document.body.appendChild(area);
  area.select(); document.execCommand('copy'); area.remove(); done();
}
element.addEventListener('click', (ev) => {
  const t = ev.target.closest('[data-act]');
  if (!t || !element.contains(t)) return;
  const d = t.dataset;
  if (d.act === 'cite') {
    ev.preventDefault(); ws().classList.add('lq-show-sources');
    if (showTurn(d.turn)) openCite(d.turn, d.n); else pending = {turn: d.turn, n: d.n};
    return;
  }
  if (d.act === 'turn') { if (!ev.target.closest('form')) showTurn(d.turn); return; }
  if (d.act === 'tab') { ws().classList.toggle('lq-show-sources', d.tab === 'sources'); return; }
  if (d.act === 'copy') { copy(element.querySelector('#copy-' + d.turn).value, t); return; }
  if (d.act === 'down') {
    element.querySelector('form.lq-down[data-turn="' + d.turn + '"]').classList.toggle('lq-hidden'); return;
  }
  if (!d.server) return;
  const data = {act: d.act, q: d.q || '', turn: d.turn || '', vote: d.vote || '', letter: d.letter || '', chunk: d.chunk || ''};
  if (d.act === 'vote' && d.vote === 'down') {
    const form = element.querySelector('form.lq-down[data-turn="' + d.turn + '"]');
    data.reason = form.elements.reason.value; data.passage = form.elements.passage.value;
  }
  if (d.act === 'ask' || d.act === 'unfiltered' || d.act === 'asis') { t.disabled = true; t.textContent = '正在回答…'; }
  trigger('click', data);
});
let shown = '';
new MutationObserver(() => {
  const chat = element.querySelector('.lq-chat');
  const last = element.querySelector('.lq-turn:last-child');
  const id = last ? last.dataset.turn : '';
  if (chat && id !== shown) { shown = id; chat.scrollTop = chat.scrollHeight; }
  if (pending && element.querySelector('#src-' + pending.turn + '-' + pending.n)) {
    const p = pending; pending = null; ws().classList.add('lq-show-sources'); openCite(p.turn, p.n);
  }
}).observe(element, {childList: true, subtree: true});
"""

CHIPS_JS = r"""
element.addEventListener('click', (ev) => {
  const t = ev.target.closest('[data-act=unfilter]');
  if (t) trigger('click', {key: t.dataset.key});
});
"""

LIBRARY_JS = r"""
element.addEventListener('click', (ev) => {
  const t = ev.target.closest('[data-act]');
  if (!t) return;
  if (t.dataset.act === 'remove' && !window.confirm('确定移除这封答复函吗？文件会移到索引文件夹的 trash 里。')) return;
  trigger('click', {act: t.dataset.act, letter: t.dataset.letter});
});
"""

VIEWER_JS = r"""
function focusPassage(tries) {
  const f = element.querySelector('.lq-focus');
  if (!f) return;
  if (f.offsetParent === null && tries > 0) { setTimeout(() => focusPassage(tries - 1), 100); return; }
  f.scrollIntoView({block: 'center'});
}
new MutationObserver(() => focusPassage(30)).observe(element, {childList: true, subtree: true});
element.addEventListener('click', (ev) => {
  const a = ev.target.closest('.lq-outline a');
  if (!a) return;
  ev.preventDefault();
  const target = element.querySelector(a.getAttribute('href'));
  if (target) target.scrollIntoView({block: 'start'});
});
"""
