// The replay of each run: a slider over the frames (the JSON the page carries), showing at t
// the replica sets and their pods by state, the weight asked and served, the error ratio, the
// step, the rollout's status and the last events. User text goes in through textContent only.
(function () {
  "use strict";

  function seconds(t) {
    var whole = Math.floor(t), m = Math.floor(whole / 60), s = whole % 60;
    var frac = t - whole > 1e-9 ? t.toFixed(1) : String(whole);
    return frac + " s" + (m > 0 ? " (" + m + ":" + (s < 10 ? "0" : "") + s + ")" : "");
  }

  function percent(x) {
    return x === null || x === undefined ? "–" : x.toFixed(1) + " %";
  }

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }

  function setText(root, selector, text) {
    root.querySelector(selector).textContent = text;
  }

  function bar(counts, states, width) {
    var box = document.createElement("div");
    box.className = "podbar";
    counts.forEach(function (n, k) {
      if (n > 0) {
        var part = document.createElement("span");
        part.className = states[k];
        part.style.width = (100 * n / width) + "%";
        part.title = states[k] + ": " + n;
        box.appendChild(part);
      }
    });
    return box;
  }

  function setUp(root) {
    var data = JSON.parse(root.querySelector(".replay-data").textContent);
    var slider = root.querySelector(".replay-slider");
    var play = root.querySelector(".replay-play");
    var last = Number(root.dataset.lastEvents || 8);
    var states = data.states;
    var timer = null;

    function show(i) {
      var f = data.frames[i];
      root.dataset.frame = String(i);
      root.dataset.t = String(f.t);
      setText(root, ".replay-t", "t = " + seconds(f.t));
      // Printed, the replay is the frame on screen: say which.
      setText(root, ".replay-print-note", "replay at t = " + seconds(f.t) +
        " (move the slider on screen)");
      setText(root, ".replay-step", f.step === null ? "–" : f.step);
      setText(root, ".replay-status", f.status === null ? "–" : f.status);
      setText(root, ".replay-asked", percent(f.asked));
      setText(root, ".replay-served", f.version === null ? "–" :
        percent(f.served) + " (" + f.version + ")");
      setText(root, ".replay-ratio", (100 * f.ratio).toFixed(2) + " % (" + f.errors +
        (f.errors === 1 ? " error" : " errors") + " of " + f.requests + " requests in this bucket)");
      var widest = 1;
      f.rs.forEach(function (rs) {
        var total = rs.slice(3).reduce(function (a, b) { return a + b; }, 0);
        widest = Math.max(widest, total, rs[2]);
      });
      var body = root.querySelector(".replay-rs tbody");
      body.replaceChildren();
      f.rs.forEach(function (rs) {
        var row = document.createElement("tr");
        row.dataset.rs = rs[0];
        cell(row, rs[0]);
        cell(row, rs[1]);
        cell(row, String(rs[2]), "num").dataset.field = "desired";
        var counts = rs.slice(3);
        counts.forEach(function (n, k) { cell(row, String(n), "num").dataset.state = states[k]; });
        var total = counts.reduce(function (a, b) { return a + b; }, 0);
        cell(row, String(total), "num").dataset.field = "pods";
        cell(row, "").appendChild(bar(counts, states, widest));
        body.appendChild(row);
      });
      if (!f.rs.length) {
        var empty = document.createElement("tr");
        cell(empty, "no replica set has pods", "empty").colSpan = 4 + states.length + 1;
        body.appendChild(empty);
      }
      var list = root.querySelector(".replay-events");
      list.replaceChildren();
      data.events.slice(Math.max(0, f.events - last), f.events).forEach(function (e) {
        var item = document.createElement("li");
        item.className = e[1];
        item.textContent = e[0].toFixed(3) + " s  " + e[2] + "  " + e[3] + (e[4] ? ": " + e[4] : "");
        list.appendChild(item);
      });
      if (!f.events) {
        var none = document.createElement("li");
        none.className = "empty";
        none.textContent = "no event yet";
        list.appendChild(none);
      }
    }

    function stop() {
      if (timer !== null) { window.clearInterval(timer); timer = null; }
      play.textContent = "Play";
    }

    slider.addEventListener("input", function () { show(Number(slider.value)); });
    play.addEventListener("click", function () {
      if (timer !== null) { stop(); return; }
      if (Number(slider.value) >= data.frames.length - 1) { slider.value = "0"; }
      play.textContent = "Pause";
      timer = window.setInterval(function () {
        var next = Number(slider.value) + 1;
        if (next >= data.frames.length) { stop(); return; }
        slider.value = String(next);
        show(next);
      }, 60);
    });
    root.querySelector(".replay-prev").addEventListener("click", function () {
      slider.value = String(Math.max(0, Number(slider.value) - 1));
      show(Number(slider.value));
    });
    root.querySelector(".replay-next").addEventListener("click", function () {
      slider.value = String(Math.min(data.frames.length - 1, Number(slider.value) + 1));
      show(Number(slider.value));
    });
    // Printed: the frame the slider is on now (playing stops there), with its note.
    window.addEventListener("beforeprint", function () {
      stop();
      show(Number(slider.value));
    });
    show(Number(slider.value));
  }

  document.querySelectorAll(".replay").forEach(setUp);

  // Printing: every collapsed section is printed open (each replay keeps its frame, above).
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
