/* Host for the course's explorables in the Jupyter Book 1 pages (a classic script).

   Each embed is <div class="explorable" data-explorable="NAME"> holding the model's initial
   state as JSON (<script type="application/json" class="explorable-model">), the static
   figure that stands in without JavaScript (.explorable-static) and an empty
   .explorable-root. The host gives NAME.mjs's default export what anywidget gives it,
   render({ model, el }), with a small model (get, set, save_changes, on, off, send), and
   then hides the static figure.

   Chromium refuses to import ES modules from file:// (an opaque origin), so when the book
   is opened from disk the host imports them from blob: URLs made from sources.js, which
   holds the same modules' text (scripts/make_explorables.py writes it; a test checks that
   it is not stale). Over http(s) it imports the .mjs files themselves. */
(function () {
  "use strict";
  if (window.CNNExplorables) {          // a page with two explorables loads this twice
    window.CNNExplorables.mountAll();
    return;
  }
  var here = document.currentScript ? document.currentScript.src : location.href;

  function Model(state) {
    var listeners = {};
    this.get = function (key) { return state[key]; };
    this.set = function (key, value) {
      var old = state[key];
      state[key] = value;
      if (JSON.stringify(old) !== JSON.stringify(value)) {
        (listeners["change:" + key] || []).slice().forEach(function (f) { f(); });
        (listeners.change || []).slice().forEach(function (f) { f(); });
      }
    };
    this.save_changes = function () {};
    this.send = function () {};
    this.on = function (name, f) { (listeners[name] = listeners[name] || []).push(f); };
    this.off = function (name, f) {
      if (!name) { listeners = {}; return; }
      listeners[name] = f ? (listeners[name] || []).filter(function (g) { return g !== f; }) : [];
    };
  }

  var blobs = {};
  function blobUrl(name) {
    if (!blobs[name]) {
      var sources = window.CNNExplorableSources || {};
      if (!(name in sources)) throw new Error("explorable module " + name + " is not in sources.js");
      // the modules import only "./common.mjs"; point that import at its blob too
      var text = sources[name].replace(/from\s+"\.\/([\w-]+\.mjs)"/g, function (_, dep) {
        return 'from "' + blobUrl(dep) + '"';
      });
      blobs[name] = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
    }
    return blobs[name];
  }

  function load(name) {
    var url = location.protocol === "file:" ? blobUrl(name) : new URL(name, here).href;
    return import(url);
  }

  function mount(box) {
    if (box.hasAttribute("data-explorable-state")) return;
    box.setAttribute("data-explorable-state", "loading");
    var name = box.getAttribute("data-explorable");
    var json = box.querySelector("script.explorable-model");
    var root = box.querySelector(".explorable-root");
    Promise.resolve().then(function () {
      return load(name + ".mjs");
    }).then(function (module) {
      var model = new Model(JSON.parse(json.textContent));
      module.default.render({ model: model, el: root });
      box.classList.add("explorable-live");
      box.setAttribute("data-explorable-state", "ready");
    }).catch(function (error) {
      box.setAttribute("data-explorable-state", "failed");
      console.error("explorable " + name + " failed: " + (error && error.stack || error));
    });
  }

  function mountAll() {
    Array.prototype.forEach.call(document.querySelectorAll("div.explorable[data-explorable]"), mount);
  }

  window.CNNExplorables = { mountAll: mountAll, Model: Model };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
