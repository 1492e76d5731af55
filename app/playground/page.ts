/**
 * The playground page: a form to register or log in, the zone drawn live on a canvas (players as
 * dots, hits as flashes), chat. Everything it does is in /client.js (browser.ts); the page names
 * the WebSocket path it connects to.
 */
export function playgroundPage(webSocketPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="gs-websocket-path" content="${escapeAttribute(webSocketPath)}">
<title>Game server playground</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; display: flex; gap: 16px; padding: 16px; background: #f4f4f6; color: #222; }
  main { display: flex; flex-direction: column; gap: 8px; }
  canvas { background: #fff; border: 1px solid #ccc; cursor: crosshair; }
  aside { display: flex; flex-direction: column; gap: 8px; width: 320px; }
  form { display: flex; gap: 4px; flex-wrap: wrap; }
  input { padding: 4px; }
  #chat-log { height: 320px; overflow-y: auto; background: #fff; border: 1px solid #ccc; padding: 4px; font-size: 13px; }
  #chat-log .history { color: #888; }
  #status { min-height: 1.4em; }
  #status.error { color: #b00; }
  .hint { color: #666; font-size: 12px; }
</style>
</head>
<body>
<main>
  <canvas id="zone" width="600" height="600" aria-label="your zone"></canvas>
  <div class="hint">Click to walk there · WASD or arrow keys to step · click a player to attack · speed <input id="speed" type="number" value="9" min="1" max="1000" style="width:5em"> units/s</div>
</main>
<aside>
  <form id="login">
    <input id="username" placeholder="username" autocomplete="username" required>
    <input id="password" placeholder="password" type="password" autocomplete="current-password" required>
    <button id="register" type="submit" name="register">Register</button>
    <button id="sign-in" type="submit" name="login">Log in</button>
  </form>
  <div id="status">Not connected.</div>
  <div id="me"></div>
  <div id="chat-log" aria-live="polite"></div>
  <form id="chat"><input id="chat-text" placeholder="say something" maxlength="256" style="flex:1"><button type="submit">Send</button></form>
</aside>
<script src="client.js"></script>
</body>
</html>
`
}

function escapeAttribute(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;')
}
