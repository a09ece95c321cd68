// Evidence Locker web app: drag-and-drop upload with per-file progress, and the phone
// session's countdown. Loaded from this server only (the Content-Security-Policy allows no
// inline script). Text from files is always set with textContent, never as HTML.
(function () {
  "use strict";

  function csrf() { return document.body.dataset.csrf || ""; }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // --- folders dropped: walk them (webkitGetAsEntry), keeping the relative path as the name
  function readEntry(entry, prefix, out) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (f) { out.push({ file: f, name: prefix + f.name }); resolve(); }, function () { resolve(); });
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        const all = [];
        const more = function () {
          reader.readEntries(function (batch) {
            if (!batch.length) {
              all.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
              let chain = Promise.resolve();
              all.forEach(function (child) {
                chain = chain.then(function () { return readEntry(child, prefix + entry.name + "/", out); });
              });
              chain.then(resolve);
            } else { all.push.apply(all, batch); more(); }
          }, function () { resolve(); });
        };
        more();
      } else { resolve(); }
    });
  }

  function setupUpload(drop) {
    const url = drop.dataset.upload;
    const queue = document.getElementById("queue");
    const summary = document.getElementById("summary");
    const pick = document.getElementById("pick");
    const waiting = [];
    let running = 0;
    const counts = { added: 0, duplicate: 0, failed: 0, total: 0 };

    function report() {
      const done = counts.added + counts.duplicate + counts.failed;
      summary.textContent = done + " / " + counts.total + " — " + drop.dataset.done + ": " + counts.added +
        ", " + drop.dataset.dup + ": " + counts.duplicate + ", " + drop.dataset.failed + ": " + counts.failed;
      summary.dataset.done = String(done);
      summary.dataset.total = String(counts.total);
    }

    function finish(item, ok) {
      running -= 1;
      item.li.classList.add(ok ? "ok" : "failed");
      report();
      next();
    }

    function send(item) {
      running += 1;
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url + "?name=" + encodeURIComponent(item.name));
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) item.bar.value = Math.round(100 * ev.loaded / ev.total);
      };
      xhr.onload = function () {
        item.bar.value = 100;
        let doc = null;
        try { doc = JSON.parse(xhr.responseText); } catch (e) { doc = null; }
        if (doc && doc.added && doc.added.length) {
          const a = doc.added[0];
          const link = el("a", "exhibit", "#" + a.exhibit);
          link.href = doc.exhibit_urls[0];
          item.status.textContent = "";
          item.status.appendChild(link);
          item.status.appendChild(document.createTextNode(" " + (a.duplicate ? drop.dataset.dup : drop.dataset.done) + " "));
          const hash = el("code", "hash", a.sha256);
          item.status.appendChild(hash);
          item.li.dataset.sha256 = a.sha256;
          item.li.dataset.exhibit = String(a.exhibit);
          (a.warnings || []).forEach(function (w) { item.li.appendChild(el("small", "warning", w)); });
          if (a.duplicate) counts.duplicate += 1; else counts.added += 1;
          finish(item, true);
        } else {
          const errors = (doc && doc.errors && doc.errors.length) ? doc.errors.map(function (e) { return e.error; })
            : [doc && doc.error ? doc.error.message : ("HTTP " + xhr.status)];
          item.status.textContent = drop.dataset.failed + ": " + errors.join("; ");
          counts.failed += 1;
          finish(item, false);
        }
      };
      xhr.onerror = function () {
        item.status.textContent = drop.dataset.failed;
        counts.failed += 1;
        finish(item, false);
      };
      xhr.send(item.file);
    }

    function next() {
      while (running < 2 && waiting.length) send(waiting.shift());
    }

    function enqueue(files) {
      files.forEach(function (f) {
        const li = el("li", "file");
        li.appendChild(el("span", "name", f.name));
        const bar = el("progress");
        bar.max = 100; bar.value = 0;
        li.appendChild(bar);
        const status = el("span", "status", "");
        li.appendChild(status);
        queue.appendChild(li);
        waiting.push({ file: f.file, name: f.name, li: li, bar: bar, status: status });
        counts.total += 1;
      });
      report();
      next();
    }

    drop.addEventListener("dragover", function (ev) { ev.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
    drop.addEventListener("drop", function (ev) {
      ev.preventDefault();
      drop.classList.remove("over");
      const items = ev.dataTransfer.items;
      const out = [];
      if (items && items.length && items[0].webkitGetAsEntry) {
        const entries = [];
        for (let i = 0; i < items.length; i++) {
          const entry = items[i].webkitGetAsEntry();
          if (entry) entries.push(entry);
        }
        let chain = Promise.resolve();
        entries.forEach(function (entry) { chain = chain.then(function () { return readEntry(entry, "", out); }); });
        chain.then(function () {
          if (!out.length) {
            Array.prototype.forEach.call(ev.dataTransfer.files, function (f) { out.push({ file: f, name: f.name }); });
          }
          enqueue(out);
        });
      } else {
        Array.prototype.forEach.call(ev.dataTransfer.files, function (f) { out.push({ file: f, name: f.name }); });
        enqueue(out);
      }
    });
    if (pick) {
      pick.addEventListener("change", function () {
        enqueue(Array.prototype.map.call(pick.files, function (f) { return { file: f, name: f.name }; }));
        pick.value = "";
      });
    }
  }

  function setupCountdown(p) {
    let left = parseInt(p.dataset.left, 10) || 0;
    const tick = function () {
      if (left <= 0) { p.textContent = p.dataset.ended; return; }
      p.textContent = p.dataset.template.replace("{minutes}", String(Math.floor(left / 60)));
    };
    setInterval(function () { left -= 15; tick(); }, 15000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const drop = document.getElementById("drop");
    if (drop) setupUpload(drop);
    const left = document.getElementById("session-left");
    if (left) setupCountdown(left);
  });
})();
