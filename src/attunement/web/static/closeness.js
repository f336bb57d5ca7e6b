/* attunement: keeps two devices in step during a live 36 Questions session.
   The page works without this script (plain forms; a waiting page refreshes itself). With it,
   the page polls GET /api/closeness/<code> and reloads as soon as the other device changes
   the session, and counts the set's timer down (at the server's test clock speed). */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }

  var code = live.getAttribute("data-code");
  var version = Number(live.getAttribute("data-version"));
  var speed = Number(live.getAttribute("data-speed")) || 1;
  var loadedAt = Date.now();
  var remaining = Number(live.getAttribute("data-remaining"));
  var eyeAttr = live.getAttribute("data-eye-remaining");
  var eyeRemaining = eyeAttr === null ? null : Number(eyeAttr);
  var timer = live.querySelector("[data-timer]");
  var eyeTimer = live.querySelector("[data-eye-timer]");
  var timeUp = live.querySelector("[data-time-up]");
  var eyeDone = live.querySelector("[data-eye-done]");
  var syncNote = live.querySelector("[data-sync]");
  var dirty = false;
  var failures = 0;
  var pollDelay = Number(live.getAttribute("data-poll-ms")) || 1500;

  Array.prototype.forEach.call(live.querySelectorAll("form[data-dirty-guard]"), function (form) {
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
  });
  live.setAttribute("data-script", "on");

  function clock(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var rest = s % 60;
    return Math.floor(s / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function protocolElapsed() { return (Date.now() - loadedAt) / 1000 * speed; }

  function tick() {
    var elapsed = protocolElapsed();
    if (timer) {
      var left = remaining - elapsed;
      timer.textContent = clock(left);
      if (left <= 0 && timeUp && timeUp.hidden) { timeUp.hidden = false; }
    }
    if (eyeTimer && eyeRemaining !== null) {
      var eyeLeft = eyeRemaining - elapsed;
      eyeTimer.textContent = clock(eyeLeft);
      if (eyeLeft <= 0 && eyeDone && eyeDone.hidden) { eyeDone.hidden = false; }
    }
  }

  function schedule() { window.setTimeout(poll, failures ? Math.min(15000, pollDelay * (1 + failures)) : pollDelay); }

  function poll() {
    fetch("/api/closeness/" + encodeURIComponent(code), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (status) {
      failures = 0;
      if (syncNote) { syncNote.hidden = true; }
      if (status.version !== version) {
        if (!dirty) { window.location.reload(); return; }
        if (syncNote) {
          syncNote.textContent = "The session has moved on; it will update when you save your answer.";
          syncNote.hidden = false;
        }
      }
      if (status.time_up && timeUp) { timeUp.hidden = false; }
      schedule();
    }).catch(function () {
      failures += 1;
      if (syncNote) { syncNote.textContent = "Reconnecting…"; syncNote.hidden = false; }
      schedule();
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { poll(); }
  });
  window.setInterval(tick, 250);
  tick();
  schedule();
}());
