extension DashboardPage {
    /// The dashboard's CSS: system fonts only, light and dark schemes from
    /// prefers-color-scheme, and under 600 px the wide tables turn into
    /// cards (one per row, each cell labelled from its data-label).
    static let style: String = #"""
:root {
  --bg: #f4f6f8; --card: #ffffff; --fg: #1c232b; --muted: #627080; --line: #e1e5ea;
  --accent: #2563eb; --ok: #15803d; --warn: #b45309; --bad: #b91c1c; --hover: #eef3fd;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1216; --card: #161b21; --fg: #e4e8ec; --muted: #95a1ae; --line: #29313a;
    --accent: #6ea8fe; --ok: #4ade80; --warn: #fbbf24; --bad: #f87171; --hover: #1c2633;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
h1 { font-size: 20px; margin: 0; letter-spacing: -0.01em; }
h2 { font-size: 16px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
h3 small { color: var(--muted); font-weight: normal; }
code { font-family: var(--mono); font-size: 12px; }
a { color: var(--accent); }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
[hidden] { display: none !important; }

header.top { background: var(--card); border-bottom: 1px solid var(--line); padding: 10px 16px 12px; }
.brand { display: flex; align-items: center; gap: 10px; max-width: 1400px; margin: 0 auto; }
.spacer { flex: 1; }
main { padding: 16px; max-width: 1400px; margin: 0 auto; display: grid; gap: 16px; }
/* Workers beside the job lookup only when the workers table fits. */
.pair { display: grid; gap: 16px; grid-template-columns: minmax(0, 1fr); align-items: start; }
@media (min-width: 1500px) { .pair { grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
.section-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.section-head h2 { margin-right: auto; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 0 16px 24px; }

.stats { display: flex; flex-wrap: wrap; gap: 8px 22px; max-width: 1400px; margin: 10px auto 0; }
.stat { display: flex; flex-direction: column; min-width: 70px; }
.stat .label { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); }
.stat .value { font-size: 15px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.meter { height: 4px; background: var(--line); border-radius: 2px; overflow: hidden; margin-top: 3px; }
.meter > span { display: block; height: 100%; background: var(--accent); }
.meter.high > span { background: var(--bad); }

.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11px; font-weight: 600;
  background: var(--line); color: var(--fg); vertical-align: middle; white-space: nowrap;
}
.value > .badge:not(:first-child), .qname + .badge { margin-left: 6px; }
.badge.ok { background: color-mix(in srgb, var(--ok) 16%, transparent); color: var(--ok); }
.badge.warn { background: color-mix(in srgb, var(--warn) 18%, transparent); color: var(--warn); }
.badge.bad { background: color-mix(in srgb, var(--bad) 16%, transparent); color: var(--bad); }

.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table.grid { border-collapse: collapse; width: 100%; }
.grid th, .grid td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; vertical-align: top; }
.grid thead th { font-size: 12px; color: var(--muted); font-weight: 600; }
.grid tbody th { font-weight: 600; }
.grid .num { text-align: right; font-variant-numeric: tabular-nums; }
.grid td.alert .v { color: var(--bad); font-weight: 600; }
.grid tbody tr:last-child > * { border-bottom: 0; }
#queues tbody tr { cursor: pointer; }
#queues tbody tr:hover, #queues tbody tr.selected { background: var(--hover); }
#queues tbody tr:focus-visible { outline: 2px solid var(--accent); outline-offset: -2px; }
.qname { font-family: var(--mono); font-size: 13px; word-break: break-all; }
.prio { display: block; font-size: 11px; color: var(--muted); }
.prio span { white-space: nowrap; }
.prio span + span { margin-left: 6px; }
.rate { display: inline-flex; align-items: center; gap: 6px; font-variant-numeric: tabular-nums; }
.rate > span { min-width: 3.2em; text-align: right; }
.spark { color: var(--accent); overflow: visible; }
.muted { color: var(--muted); }

.error pre { margin: 0; white-space: pre-wrap; word-break: break-word; max-width: 46ch; font: 12px/1.4 var(--mono); color: var(--bad); }
.error details summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.error ol { margin: 4px 0 0; padding-left: 18px; font: 12px/1.4 var(--mono); white-space: pre-wrap; }
.payload {
  display: inline-block; max-width: 34ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  vertical-align: bottom; font: 12px var(--mono);
}

button {
  font: inherit; font-size: 13px; padding: 4px 11px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--bg); color: var(--fg); cursor: pointer;
}
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: 0.55; cursor: default; }
button.danger { color: var(--bad); }
button.link { border: 0; background: none; color: var(--accent); padding: 0; }
input {
  font: inherit; padding: 5px 8px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--bg); color: var(--fg); min-width: 0;
}
.row { display: flex; gap: 8px; align-items: center; }
.row input { flex: 1; max-width: 320px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 0; }
.row-actions { text-align: right; }
.msg { margin: 4px 0; min-height: 1.45em; font-size: 13px; color: var(--muted); }
.msg.ok { color: var(--ok); }
.msg.bad { color: var(--bad); }
.empty { color: var(--muted); margin: 8px 0 4px; }
.auth { border-color: var(--warn); }

dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 14px; margin: 8px 0 0; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-word; font-variant-numeric: tabular-nums; }
dd pre { margin: 0; white-space: pre-wrap; font: 12px/1.4 var(--mono); }

@media (max-width: 600px) {
  body { font-size: 15px; }
  header.top { padding: 10px 12px; }
  .stats { gap: 6px 16px; }
  main { padding: 8px; gap: 10px; }
  .card { padding: 10px 12px; }
  table.cards thead { display: none; }
  table.cards, table.cards tbody { display: block; }
  table.cards tr {
    display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); column-gap: 18px;
    border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; margin-bottom: 8px;
  }
  table.cards tr > * { display: block; border: 0; padding: 3px 0; white-space: normal; text-align: left; }
  table.cards tbody tr > th, table.cards .wide, table.cards .rate-cell { grid-column: 1 / -1; }
  table.cards td[data-label] { display: flex; justify-content: space-between; align-items: baseline; gap: 10px; }
  table.cards td[data-label]::before { content: attr(data-label); color: var(--muted); font-size: 12px; flex: none; }
  table.cards td.wide { display: block; }
  table.cards td.wide::before { display: block; }
  table.cards .prio { display: flex; flex-wrap: wrap; justify-content: flex-end; column-gap: 6px; }
  table.cards .prio span + span { margin-left: 0; }
  table.cards .row-actions { text-align: right; align-self: center; }
  .error pre, .payload { max-width: 100%; }
  .row input { max-width: none; }
}
"""#
}
