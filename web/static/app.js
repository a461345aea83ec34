// itad serve: progressive enhancement of the station page. Without this
// script every form posts and the server renders the page; with it, a
// scan posts in the background, the station is swapped in place, the
// scan box keeps focus and a short tone says accepted or refused.
(function () {
  "use strict";
  var audio = null;
  function tone(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.type = ok ? "sine" : "square";
      o.frequency.value = ok ? 880 : 220;
      g.gain.value = 0.15;
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + (ok ? 0.08 : 0.45));
    } catch (e) { /* no sound: fine */ }
  }
  function focusScan() {
    var f = document.getElementById("d-type") || document.getElementById("code");
    if (f) { f.focus(); }
  }
  function enhance(root) {
    var forms = root.querySelectorAll("#scan, #new-device");
    for (var i = 0; i < forms.length; i++) { forms[i].addEventListener("submit", submit); }
  }
  function submit(ev) {
    var form = ev.target;
    if (!window.fetch || !window.DOMParser) { return; }
    ev.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("station"), old = document.getElementById("station");
        if (!fresh || !old) { document.body.replaceWith(doc.body); return; } // an error page
        // Earlier refusals stay in view (they are not in the ledger, so
        // the server's page has only the newest), below the new result.
        var kept = old.querySelectorAll("#rows tr.refused"), rows = fresh.querySelector("#rows");
        if (rows) {
          var at = rows.firstElementChild && fresh.getAttribute("data-result") ? rows.firstElementChild.nextSibling : rows.firstElementChild;
          for (var k = 0; k < kept.length && k < 20; k++) { kept[k].removeAttribute("role"); rows.insertBefore(kept[k], at); }
        }
        old.replaceWith(fresh);
        var kind = fresh.getAttribute("data-result");
        if (kind) { tone(kind === "ok"); }
        enhance(fresh);
        focusScan();
      })
      .catch(function () { form.submit(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var st = document.getElementById("station");
    if (!st) { return; }
    enhance(st);
    focusScan();
    // Keep the scan box focused: a scanner types wherever focus is.
    document.addEventListener("click", function (e) {
      if (!e.target.closest("input, select, button, a, label")) { focusScan(); }
    });
  });
})();
