/// The dashboard served at `GET /`: one self-contained HTML document (inline
/// CSS and JS, no CDN, no web fonts, no build step) that polls the JSON API
/// described in docs/http-api.md every 2 s.
///
/// The document is split over three files so each stays readable: the markup
/// here, the style in DashboardPage+Style.swift, and the script in
/// DashboardPage+Render.swift (DOM building, first) and
/// DashboardPage+Script.swift (data, actions, and the start). The script never parses server
/// text as markup: every value reaches the page as a text node or an
/// attribute value, so queue names, payloads and error texts cannot inject
/// elements.
///
/// Stable hooks for tests: queue rows carry `data-queue`, their cells
/// `data-field`; the server status area is `#server-status`; dead-letter rows
/// carry `data-job-id`.
enum DashboardPage {
    /// The whole document, assembled once.
    static let html: String = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>jobd</title>
<link rel="icon" href="data:,">
<style>
\#(style)</style>
</head>
<body>
<header class="top">
  <div class="brand">
    <h1>jobd</h1>
    <span id="conn" class="badge">connecting…</span>
    <span class="spacer"></span>
    <button id="sign-out" type="button" class="link" hidden>Forget password</button>
  </div>
  <section id="server-status" class="stats" aria-label="Server status" aria-live="off"></section>
</header>
<main>
  <form id="auth-form" class="card auth" hidden>
    <h2>Password required</h2>
    <p>This server has a password (<code>requirepass</code>). It is kept in this browser tab only.</p>
    <div class="row">
      <input id="auth-password" type="password" autocomplete="current-password" aria-label="Password" placeholder="password" required>
      <button type="submit">Sign in</button>
    </div>
    <p id="auth-msg" class="msg" role="status"></p>
  </form>

  <section id="queues-section" class="card">
    <div class="section-head">
      <h2>Queues</h2>
      <p id="queues-msg" class="msg" role="status"></p>
    </div>
    <div class="scroll">
      <table id="queues" class="grid cards">
        <thead><tr>
          <th scope="col">Queue</th><th scope="col" class="num">Pending</th><th scope="col" class="num">Delayed</th>
          <th scope="col" class="num">Active</th><th scope="col" class="num">Completed</th><th scope="col" class="num">Failed</th>
          <th scope="col" class="num">Dead</th><th scope="col">Enqueued /s</th><th scope="col">Completed /s</th>
          <th scope="col">Oldest pending</th><th scope="col"><span class="sr">Actions</span></th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="queues-empty" class="empty" hidden>No queues yet. Push a job, e.g. <code>LPUSH emails hello</code>.</p>
  </section>

  <section id="queue-detail" class="card" hidden>
    <div class="section-head">
      <h2>Queue <span id="detail-name" class="qname"></span></h2>
      <button id="detail-close" type="button" class="link">Close</button>
    </div>
    <div id="detail-summary" class="stats"></div>
    <div class="actions">
      <button type="button" data-action="requeue-dead">Requeue all dead</button>
      <button type="button" data-action="purge-dead" class="danger">Purge dead</button>
      <button type="button" data-action="purge-pending" class="danger">Purge pending</button>
    </div>
    <p id="detail-msg" class="msg" role="status"></p>
    <h3>Dead letters <small id="dead-count"></small></h3>
    <div class="scroll">
      <table id="dead" class="grid cards">
        <thead><tr>
          <th scope="col">Job</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th>
          <th scope="col">Finished</th><th scope="col">Payload</th><th scope="col"><span class="sr">Actions</span></th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="dead-empty" class="empty" hidden>No dead letters.</p>
  </section>

  <div class="pair">
    <section id="workers-section" class="card">
      <h2>Workers</h2>
      <div class="scroll">
        <table id="workers" class="grid">
          <thead><tr>
            <th scope="col">Queues</th><th scope="col">Handler</th><th scope="col" class="num">Busy</th>
            <th scope="col" class="num">Idle</th><th scope="col" class="num">Completed</th><th scope="col" class="num">Failed</th>
            <th scope="col" class="num">Timed out</th><th scope="col" class="num">Canceled</th>
            <th scope="col" class="num">Mean</th><th scope="col" class="num">p99</th>
          </tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <p id="workers-empty" class="empty" hidden>No in-process worker pools (<code>worker</code> lines in jobd.conf).</p>
    </section>

    <section id="job-section" class="card">
      <h2>Job lookup</h2>
      <form id="job-form" class="row">
        <input id="job-id" type="search" autocomplete="off" spellcheck="false" aria-label="Job id" placeholder="job id" required>
        <button type="submit">Look up</button>
      </form>
      <p id="job-msg" class="msg" role="status"></p>
      <dl id="job-fields" hidden></dl>
      <div id="job-actions" class="actions" hidden>
        <button type="button" data-action="retry-job">Retry</button>
        <button type="button" data-action="cancel-job" class="danger">Cancel</button>
      </div>
    </section>
  </div>
</main>
<footer>
  Updated <span id="updated">never</span> · refreshes every 2 s · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a>
</footer>
<script>
\#(render)
\#(script)</script>
</body>
</html>

"""#
}
