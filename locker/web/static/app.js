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
    const batch = drop.dataset.batch;
    // Small files go several to a request (the server reads each as soon as it has arrived and
    // records the request's files together, as add records a folder), PARALLEL requests at a time.
    const BIG = 16 * 1024 * 1024, BATCH_FILES = 64, BATCH_BYTES = 128 * 1024 * 1024, PARALLEL = 2;
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

    function shown(item, a, url) {
      const link = el("a", "exhibit", "#" + a.exhibit);
      link.href = url;
      item.status.textContent = "";
      item.status.appendChild(link);
      item.status.appendChild(document.createTextNode(" " + (a.duplicate ? drop.dataset.dup : drop.dataset.done) + " "));
      item.status.appendChild(el("code", "hash", a.sha256));
      item.li.dataset.sha256 = a.sha256;
      item.li.dataset.exhibit = String(a.exhibit);
      (a.warnings || []).forEach(function (w) { item.li.appendChild(el("small", "warning", w)); });
      if (a.duplicate) counts.duplicate += 1; else counts.added += 1;
    }

    function failed(item, message) {
      item.status.textContent = drop.dataset.failed + ": " + message;
      counts.failed += 1;
    }

    // One file's answer (an add --json document with exhibit_urls) onto its line.
    function settle(item, doc, status) {
      item.bar.value = 100;
      if (doc && doc.added && doc.added.length) {
        shown(item, doc.added[0], doc.exhibit_urls[0]);
        item.li.classList.add("ok");
      } else {
        const errors = (doc && doc.errors && doc.errors.length) ? doc.errors.map(function (e) { return e.error; })
          : [doc && doc.error ? doc.error.message : ("HTTP " + status)];
        failed(item, errors.join("; "));
        item.li.classList.add("failed");
      }
    }

    function done() {
      running -= 1;
      report();
      next();
    }

    // A large file alone: its bytes as the body of one PUT.
    function sendOne(item) {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url + "?name=" + encodeURIComponent(item.name));
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) item.bar.value = Math.round(100 * ev.loaded / ev.total);
      };
      xhr.onload = function () {
        let doc = null;
        try { doc = JSON.parse(xhr.responseText); } catch (e) { doc = null; }
        settle(item, doc, xhr.status);
        done();
      };
      xhr.onerror = function () { failed(item, "network"); item.li.classList.add("failed"); done(); };
      xhr.send(item.file);
    }

    // Small files together: one multipart request, recorded as one group (as add records a folder).
    function sendBatch(items) {
      const form = new FormData();
      items.forEach(function (item) { form.append("files", item.file, item.name); });
      const xhr = new XMLHttpRequest();
      xhr.open("POST", batch);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        let left = ev.loaded * items.reduce(function (n, i) { return n + i.file.size; }, 0) / ev.total;
        items.forEach(function (item) {
          const part = Math.max(0, Math.min(item.file.size, left));
          item.bar.value = item.file.size ? Math.round(100 * part / item.file.size) : 100;
          left -= item.file.size;
        });
      };
      xhr.onload = function () {
        let doc = null;
        try { doc = JSON.parse(xhr.responseText); } catch (e) { doc = null; }
        items.forEach(function (item, i) {
          settle(item, doc && doc.files ? doc.files[i] : doc, xhr.status);
        });
        done();
      };
      xhr.onerror = function () {
        items.forEach(function (item) { failed(item, "network"); item.li.classList.add("failed"); });
        done();
      };
      xhr.send(form);
    }

    function next() {
      while (running < PARALLEL && waiting.length) {
        running += 1;
        if (!batch || waiting[0].file.size >= BIG) { sendOne(waiting.shift()); continue; }
        const items = [];
        let bytes = 0;
        while (waiting.length && waiting[0].file.size < BIG && items.length < BATCH_FILES &&
               (items.length === 0 || bytes + waiting[0].file.size <= BATCH_BYTES)) {
          bytes += waiting[0].file.size;
          items.push(waiting.shift());
        }
        sendBatch(items);
      }
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
