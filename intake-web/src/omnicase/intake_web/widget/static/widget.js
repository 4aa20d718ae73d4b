/* Omnicase chat widget: plain JavaScript, no framework. Served after its settings
   (window.OmnicaseWidgetSettings). A visitor's messages are kept in localStorage until the
   server acknowledges them (it answers only once they are stored), and sent again with the
   same client_id after a failure, so a flaky connection neither loses nor doubles one.
   Replies arrive live over a WebSocket (server-sent events where a proxy blocks it), resuming after the last entry seen;
   messages go over that socket when it is open (acknowledged by the server once stored), by POST otherwise. */
(function () {
  "use strict";
  var S = window.OmnicaseWidgetSettings;
  if (!S || document.getElementById("ocw-root")) return;
  // The widget's own words by locale, from the kit's locale files (served with the settings).
  var TEXTS = S.texts;
  var script = document.currentScript;
  var wanted = (script && script.getAttribute("data-locale")) || navigator.language || "";
  var lang = pick(wanted) || pick(S.defaultLocale) || "en";
  var T = TEXTS[lang];
  var KEY = "omnicase-widget:" + S.channel;
  var state = load();
  var shown = {};      // seq -> element
  var pendingEls = {}; // client_id -> element
  var stream = null;
  var sending = false;

  function pick(tag) {
    tag = (tag || "").toLowerCase();
    return TEXTS[tag] ? tag : TEXTS[tag.split("-")[0]] ? tag.split("-")[0] : null;
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || { pending: [] }; } catch (e) { return { pending: [] }; }
  }
  function save() {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: this page only */ }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text) node.textContent = text;
    return node;
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  var css = "#ocw-root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.4 system-ui,sans-serif;color:#1a1a1a}" +
    "#ocw-root button{font:inherit;cursor:pointer}" +
    "#ocw-launch{background:" + S.color + ";color:#fff;border:0;border-radius:24px;padding:12px 20px;box-shadow:0 2px 8px rgba(0,0,0,.3)}" +
    "#ocw-panel{display:none;flex-direction:column;width:340px;max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 100px);background:#fff;border:1px solid #888;border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.3);margin-bottom:12px}" +
    "#ocw-root.ocw-open #ocw-panel{display:flex}" +
    "#ocw-head{display:flex;justify-content:space-between;align-items:center;background:" + S.color + ";color:#fff;padding:8px 12px;border-radius:8px 8px 0 0}" +
    "#ocw-head h2{font-size:16px;margin:0}" +
    "#ocw-x{background:transparent;color:#fff;border:0;font-size:20px;padding:0 6px}" +
    "#ocw-log{flex:1;overflow-y:auto;padding:12px;margin:0;list-style:none}" +
    "#ocw-log>div{margin:6px 0;padding:8px 10px;border-radius:8px;max-width:85%;white-space:pre-wrap;word-wrap:break-word}" +
    ".ocw-visitor{background:" + S.color + ";color:#fff;margin-left:auto!important}" +
    ".ocw-agent,.ocw-note,.ocw-articles{background:#ececec}" +
    ".ocw-state{display:block;font-size:12px;opacity:.9}" +
    ".ocw-articles ul{margin:4px 0;padding-left:18px}.ocw-articles li{margin:4px 0}" +
    ".ocw-articles a{color:#0b3d91}" +
    ".ocw-articles button{display:block;margin-top:2px;background:#fff;border:1px solid #555;border-radius:4px;padding:2px 8px;color:#1a1a1a}" +
    "#ocw-form{display:flex;gap:6px;padding:8px;border-top:1px solid #ccc}" +
    "#ocw-pre{padding:8px;border-top:1px solid #ccc}#ocw-pre label{display:block;margin-top:4px}" +
    "#ocw-pre input,#ocw-pre select{width:100%;box-sizing:border-box;font:inherit;padding:4px;border:1px solid #767676;border-radius:4px}" +
    "#ocw-pre button{margin-top:8px;background:" + S.color + ";color:#fff;border:0;border-radius:4px;padding:6px 14px}" +
    "#ocw-text{flex:1;resize:none;font:inherit;padding:6px;border:1px solid #767676;border-radius:4px}" +
    "#ocw-send{background:" + S.color + ";color:#fff;border:0;border-radius:4px;padding:0 14px}" +
    "#ocw-attach{background:#fff;border:1px solid #767676;border-radius:4px;padding:0 8px}" +
    "#ocw-alert{padding:0 12px;font-size:13px;color:#a50e0e}" +
    "#ocw-typing{padding:0 12px;font-size:13px;font-style:italic;min-height:1.4em}" +
    ".ocw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "#ocw-root :focus-visible{outline:3px solid #ffbf47;outline-offset:2px}";

  var root = el("div", { id: "ocw-root", lang: lang });
  root.appendChild(el("style", {}, css));
  var title = (S.title && (S.title[lang] || S.title[S.defaultLocale])) || T.title;
  var panel = el("div", { id: "ocw-panel", role: "dialog", "aria-labelledby": "ocw-title" });
  var head = el("div", { id: "ocw-head" });
  head.appendChild(el("h2", { id: "ocw-title" }, title));
  var closer = el("button", { id: "ocw-x", type: "button", "aria-label": T.close }, "×");
  head.appendChild(closer);
  panel.appendChild(head);
  var log = el("div", { id: "ocw-log", role: "log", "aria-live": "polite", "aria-label": T.log, tabindex: "0" });
  var greeting = (S.greeting && (S.greeting[lang] || S.greeting[S.defaultLocale])) || T.greeting;
  log.appendChild(el("div", { "class": "ocw-note" }, greeting));
  panel.appendChild(log);
  // The desk's side: an agent typing (for a few seconds, or until their message), announced politely.
  var typing = el("div", { id: "ocw-typing", "aria-live": "polite" });
  panel.appendChild(typing);
  // What the widget refused before sending (a file too large, too many): said at once.
  var alertBox = el("div", { id: "ocw-alert", role: "alert" });
  panel.appendChild(alertBox);
  var form = el("form", { id: "ocw-form" });
  form.appendChild(el("label", { "for": "ocw-text", "class": "ocw-sr" }, T.label));
  var input = el("textarea", { id: "ocw-text", rows: "2", maxlength: String(S.maxChars), placeholder: T.label });
  form.appendChild(input);
  // Files go over HTTP (the form's limits and rules, checked again by the server), never the socket.
  var fileInput = null;
  if (S.maxFiles > 0) {
    fileInput = el("input", { id: "ocw-file", type: "file", multiple: "multiple", hidden: "hidden", tabindex: "-1" });
    var attach = el("button", { id: "ocw-attach", type: "button", "aria-label": T.attach, title: T.attach }, "\uD83D\uDCCE");
    attach.addEventListener("click", function () { fileInput.click(); });
    fileInput.addEventListener("change", function () { sendFiles(fileInput.files); fileInput.value = ""; });
    form.appendChild(fileInput);
    form.appendChild(attach);
  }
  form.appendChild(el("button", { id: "ocw-send", type: "submit" }, T.send));
  // The forms' spam rules (S.spam): a field hidden from people and assistive technology, tempting to bots.
  var honeypot = null, captchaToken = null;
  if (S.spam) {
    var trap = el("div", { "aria-hidden": "true", style: "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden" });
    honeypot = el("input", { type: "text", name: S.spam.honeypot, tabindex: "-1", autocomplete: "off" });
    var bait = el("label", {}, S.spam.honeypot);
    bait.appendChild(honeypot);
    trap.appendChild(bait);
    form.appendChild(trap);
  }
  // The pre-chat form, when the channel has one (or the visitor leaves a message): asked once, before the first message.
  var pre = null, answers = {}, awayNote = null, preDone = false;
  panel.appendChild(form);
  // Outside the chat's business hours: said first, and the visitor's email asked, to be answered by. Decided as the
  // script was served, and again (`/hours`) when the widget opens and before a first message.
  function setAway(away) {
    S.away = away;
    if (away && !awayNote) log.insertBefore(awayNote = el("div", { "class": "ocw-note", id: "ocw-away" }, T.away), log.children[1] || null);
    if (!away && awayNote) { log.removeChild(awayNote); awayNote = null; }
    if (pre) { panel.removeChild(pre); pre = null; form.style.display = ""; }
    var captcha = S.spam && S.spam.captcha;
    if ((S.preChat || S.away || captcha) && !window.OmnicaseWidgetIdentity && !state.token && !preDone) askFirst();
  }
  function askFirst() {
    var ask = S.preChat || {};
    pre = el("form", { id: "ocw-pre" });
    var asked = [];
    if (ask.name) asked.push(["name", "text", "name"]);
    if (ask.email || S.away) asked.push(["email", "email", "email"]);
    asked.forEach(function (field) {
      pre.appendChild(el("label", { "for": "ocw-pre-" + field[0] }, T[field[0]]));
      pre.appendChild(el("input", { id: "ocw-pre-" + field[0], type: field[1], autocomplete: field[2], required: "required" }));
    });
    if (ask.topics && ask.topics.length) {
      pre.appendChild(el("label", { "for": "ocw-pre-topic" }, T.topic));
      var select = el("select", { id: "ocw-pre-topic", required: "required" });
      ask.topics.forEach(function (topic) { select.appendChild(el("option", { value: topic }, topic.replace(/[-_]/g, " "))); });
      pre.appendChild(select);
    }
    var challenge = S.spam && S.spam.captcha;
    if (challenge) {
      // The captcha provider's own widget, as a form shows it (its script renders every such element).
      pre.appendChild(el("div", { "class": challenge["class"], "data-sitekey": challenge.siteKey }));
      if (!document.querySelector('script[src="' + challenge.script + '"]')) {
        document.head.appendChild(el("script", { src: challenge.script, async: "async" }));
      }
    }
    pre.appendChild(el("button", { type: "submit" }, S.away ? T.leave : T.start));
    pre.addEventListener("submit", function (e) {
      e.preventDefault();
      if (challenge) {
        var solved = pre.querySelector('[name="' + challenge.field + '"]');
        if (!solved || !solved.value) return;
        captchaToken = solved.value;
      }
      ["name", "email", "topic"].forEach(function (key) {
        var given = document.getElementById("ocw-pre-" + key);
        if (given) answers[key] = given.value.trim();
      });
      preDone = true;
      panel.removeChild(pre); pre = null;
      form.style.display = "";
      input.focus();
    });
    form.style.display = "none";
    panel.insertBefore(pre, form);
  }
  setAway(S.away);
  // Has the chat opened or closed since? Asked only before the conversation (a visitor already writing stays).
  function checkHours(then) {
    if (!S.hours || state.token || preDone) return then(false);
    call("GET", "/hours").then(function (r) {
      var changed = r.status === 200 && r.data.away !== S.away;
      if (changed) setAway(r.data.away);
      then(changed);
    }).catch(function () { then(false); });
  }
  root.appendChild(panel);
  var launcher = el("button", { id: "ocw-launch", type: "button", "aria-expanded": "false", "aria-controls": "ocw-panel" }, T.open);
  root.appendChild(launcher);
  document.body.appendChild(root);

  function setOpen(open) {
    root.className = open ? "ocw-open" : "";
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      (pre ? pre.querySelector("input,select") : input).focus(); connect(); seen();
      checkHours(function (changed) { if (changed) (pre ? pre.querySelector("input,select") : input).focus(); });
    } else { launcher.focus(); }
  }
  launcher.addEventListener("click", function () { setOpen(root.className !== "ocw-open"); });
  closer.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  // The visitor's side: typing (said at most every 3 s) and read (what the open panel shows, once each).
  var typedAt = 0, typingTimer = null, readShown = null;
  input.addEventListener("input", function () {
    if (state.token && Date.now() - typedAt > 3000) { typedAt = Date.now(); signal({ type: "typing" }); }
  });
  function seen() {
    if (root.className === "ocw-open" && state.token && (state.seq || 0) > (state.read || 0) && !document.hidden) {
      state.read = state.seq; save();
      signal({ type: "read", seq: state.read });
    }
  }
  document.addEventListener("visibilitychange", seen);
  function signal(frame) {
    if (stream && stream.readyState === 1 && stream.send) return stream.send(JSON.stringify(frame));
    call("POST", "/signals", frame).catch(function () { /* a signal is not worth a retry */ });
  }
  function agentTyping() {
    typing.textContent = T.typing;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typing.textContent = ""; }, 6000);
  }
  function agentRead(seq) {
    // "Read" under the visitor's last message the desk has read.
    var last = null;
    for (var n in shown) if (+n <= seq && shown[n].className === "ocw-visitor") last = shown[n];
    if (!last || last === readShown) return;
    if (readShown && readShown.lastChild.className === "ocw-state ocw-read") readShown.removeChild(readShown.lastChild);
    last.appendChild(el("span", { "class": "ocw-state ocw-read" }, T.read));
    readShown = last;
  }

  function bubble(direction, text, note) {
    var item = el("div", { "class": "ocw-" + direction });
    if (direction !== "note") {
      item.appendChild(el("span", { "class": "ocw-sr" }, (direction === "visitor" ? T.you : T.agent) + ": "));
    }
    item.appendChild(document.createTextNode(text));
    if (note) item.appendChild(el("span", { "class": "ocw-state" }, note));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }
  function articlesBox(entry) {
    var item = el("div", { "class": "ocw-articles" });
    item.appendChild(el("p", {}, T.articles));
    var list = el("ul", {});
    entry.articles.forEach(function (article) {
      var li = el("li", {});
      li.appendChild(el("a", { href: article.url, target: "_blank", rel: "noopener" }, article.title));
      var yes = el("button", { type: "button", "class": "ocw-choice", "aria-label": T.answered + ": " + article.title }, T.answered);
      yes.addEventListener("click", function () { choose("/answered", { article_id: article.article_id }); });
      li.appendChild(yes);
      list.appendChild(li);
    });
    item.appendChild(list);
    var talk = el("button", { type: "button", "class": "ocw-choice" }, T.talk);
    talk.addEventListener("click", function () { choose("/handover", {}); });
    item.appendChild(talk);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }
  function choose(path, body) {
    call("POST", path, body).then(function (r) { if (r.status === 201) show(r.data); });
  }
  function endChoices() {
    var buttons = log.querySelectorAll(".ocw-choice");
    for (var i = 0; i < buttons.length; i++) buttons[i].parentNode.removeChild(buttons[i]);
  }
  function show(entry) {
    if (shown[entry.seq]) return;
    if (entry.direction === "articles") { shown[entry.seq] = articlesBox(entry); return remember(entry); }
    if (entry.direction === "note") {
      endChoices();
      shown[entry.seq] = bubble("note", entry.note === "answered" ? T.solved : T.handedOver);
      return remember(entry);
    }
    var waiting = entry.client_id && pendingEls[entry.client_id];
    if (waiting) {
      var note = waiting.querySelector(".ocw-state");
      if (note) waiting.removeChild(note);
      delete pendingEls[entry.client_id];
      shown[entry.seq] = waiting;
    } else {
      shown[entry.seq] = bubble(entry.direction, withFiles(entry.text, entry.attachments));
    }
    if (entry.direction === "agent") { typing.textContent = ""; }
    remember(entry);
  }
  function remember(entry) {
    if (entry.seq > (state.seq || 0)) { state.seq = entry.seq; save(); if (entry.direction !== "visitor") seen(); }
  }

  function call(method, path, body) {
    var headers = { Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    if (state.token) headers["X-Widget-Token"] = state.token;
    return fetch(S.base + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.text().then(function (t) {
          var data = null;
          try { data = t ? JSON.parse(t) : null; } catch (e) { /* not JSON */ }
          return { status: r.status, data: data };
        });
      });
  }
  function ensureConversation() {
    if (state.token) return Promise.resolve();
    var body = IDENTITY ? { identity: IDENTITY } : spamAnswers(answers);
    return call("POST", "/conversations", body).then(function (r) {
      if (r.status !== 201) throw r;
      state.token = r.data.token; state.seq = 0; save();
    });
  }
  function spamAnswers(given) {
    if (!S.spam) return given;
    var body = {};
    for (var key in given) body[key] = given[key];
    if (honeypot && honeypot.value) body.honeypot = honeypot.value;
    body.ts = S.spam.ts;
    if (captchaToken) body.captcha = captchaToken;
    return body;
  }
  function forget() {
    state = { pending: state.pending, identity: state.identity }; save();
    if (stream) { stream.close(); stream = null; }
  }

  function connect() {
    if (stream || !state.token) return;
    call("GET", "/conversation").then(function (r) {
      if (r.status === 401) { forget(); return; }
      if (r.status !== 200) return;
      r.data.entries.forEach(show);
      listen();
    }).catch(function () { setTimeout(connect, 3000); });
  }
  // Live: a WebSocket first; one that never opens (a proxy that blocks them) falls back to server-sent events
  // for the page's life. Either resumes after the last entry held, so a new one neither loses nor repeats.
  var viaEvents = typeof WebSocket !== "function";
  function listen() {
    if (stream) return;
    var query = "?token=" + encodeURIComponent(state.token) + "&after=" + (state.seq || 0);
    if (viaEvents) return listenEvents(query);
    var socket = stream = new WebSocket(S.base.replace(/^http/, "ws") + "/socket" + query);
    var opened = false;
    // Open again (after a cut): what is still unacknowledged goes now, over it, rather than at its retry's time.
    socket.onopen = function () { opened = true; flush(0); };
    socket.onmessage = function (e) {
      var frame = JSON.parse(e.data);
      if (frame.type === "message") show(frame.entry);
      else if (frame.type === "ack") answered(frame.client_id, { status: frame.replayed ? 200 : 201, data: frame.entry });
      else if (frame.type === "refused") answered(frame.client_id, { status: frame.problem.status, data: frame.problem });
      else if (frame.type === "typing") agentTyping();
      else if (frame.type === "read") agentRead(frame.seq);
    };
    socket.onclose = function (e) {
      for (var id in acks) if (acks[id].socket === socket) acks[id].fail();
      if (stream !== socket) return;
      stream = null;
      if (!opened) { viaEvents = true; return listen(); }
      // 4000: the socket's time is up, resume now; anything else (a refusal, the server gone) re-reads first.
      if (e.code === 4000) return listen();
      setTimeout(connect, 3000);
    };
  }
  function listenEvents(query) {
    stream = new EventSource(S.base + "/events" + query);
    stream.addEventListener("message", function (e) { show(JSON.parse(e.data)); });
    stream.addEventListener("typing", agentTyping);
    stream.addEventListener("read", function (e) { agentRead(JSON.parse(e.data).seq); });
    stream.onerror = function () {
      // EventSource reconnects by itself, sending Last-Event-ID; a refused stream (bad token) stays closed.
      if (stream && stream.readyState === EventSource.CLOSED) {
        stream = null;
        setTimeout(connect, 3000);
      }
    };
  }

  function withFiles(text, files) {
    var names = (files || []).map(function (f) { return "\uD83D\uDCCE " + (f.filename || f.name); }).join("\n");
    return text && names ? text + "\n" + names : text || names;
  }
  function size(bytes) {
    return bytes >= 1048576 ? Math.round(bytes / 1048576) + " MB" : Math.round(bytes / 1024) + " kB";
  }
  // The visitor's files: refused here when over the chat's limits (the server refuses them too, naming the field),
  // else uploaded with a client_id of their own, sent again after a failure (the same client_id: one message).
  function sendFiles(list) {
    var files = Array.prototype.slice.call(list || []);
    alertBox.textContent = "";
    if (!files.length) return;
    if (files.length > S.maxFiles) return (alertBox.textContent = T.tooManyFiles.replace("{count}", S.maxFiles));
    var big = files.filter(function (f) { return f.size > S.maxFileBytes; })[0];
    if (big) return (alertBox.textContent = T.fileTooLarge.replace("{name}", big.name).replace("{limit}", size(S.maxFileBytes)));
    var message = { client_id: newId(), files: files };
    pendingEls[message.client_id] = bubble("visitor", withFiles("", files), T.sending);
    upload(message, 0);
  }
  function upload(message, attempt) {
    ensureConversation().then(function () {
      var body = new FormData();
      body.append("client_id", message.client_id);
      message.files.forEach(function (f) { body.append("attachments", f, f.name); });
      return fetch(S.base + "/attachments", {
        method: "POST", body: body, headers: { Accept: "application/json", "X-Widget-Token": state.token }
      }).then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
    }).then(function (r) {
      if (r.status === 200 || r.status === 201) { show(r.data); return listen(); }
      if (r.status === 429 || r.status >= 500) throw r;
      var detail = (r.data && r.data.detail) || r.status;
      mark(message, T.refused + detail);
      alertBox.textContent = T.refused + detail;
      delete pendingEls[message.client_id];
    }).catch(function () {
      mark(message, T.failed);
      setTimeout(function () { upload(message, attempt + 1); }, Math.min(30000, 1000 * Math.pow(2, attempt)));
    });
  }

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    // The chat closed while the page was open: the visitor's email is asked first (their words stay in the box).
    if (S.hours && !state.token && !preDone && !S.away && !submit.checked) {
      return checkHours(function (changed) {
        if (changed && pre) return pre.querySelector("input,select").focus();
        submit.checked = true; submit();
      });
    }
    input.value = "";
    var message = { client_id: newId(), text: text };
    state.pending.push(message); save();
    pendingEls[message.client_id] = bubble("visitor", text, T.sending);
    flush(0);
  }
  // Sends the oldest unacknowledged message until none is left: one at a time, in order.
  function flush(attempt) {
    if (sending || !state.pending.length) return;
    sending = true;
    var message = state.pending[0];
    send(message).then(function (r) {
      sending = false;
      if (r.status === 401) { forget(); return retry(message, attempt); }
      if (r.status === 200 || r.status === 201) {
        state.pending.shift(); save();
        show(r.data);
        listen();
        return flush(0);
      }
      if (r.status === 429 || r.status >= 500) return retry(message, attempt);
      state.pending.shift(); save();
      mark(message, T.refused + ((r.data && r.data.detail) || r.status));
      flush(0);
    }, function (r) {
      sending = false;
      // The conversation could not begin: the spam rules refused it (too fast: wait and send again), or a field.
      var type = (r && r.data && r.data.type) || "";
      if (r && r.status >= 400 && r.status < 500 && r.status !== 429 && !/submitted-too-fast$/.test(type)) {
        state.pending.shift(); save();
        mark(message, T.refused + ((r.data && r.data.detail) || r.status));
        return flush(0);
      }
      retry(message, attempt);
    });
  }
  // Over the socket when one is open (answered by an ack once stored, or the POST's refusal), else by POST;
  // an answer lost with the socket is a failure, and the same client_id sent again is still one message.
  var acks = {}; // client_id -> the socket it was sent on, and what its answer settles
  function send(message) {
    if (!(stream && stream.readyState === 1 && stream.send)) {
      return ensureConversation().then(function () { return call("POST", "/messages", message); });
    }
    var socket = stream;
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { settle(null); }, 10000);
      function settle(answer) {
        clearTimeout(timer);
        delete acks[message.client_id];
        if (answer) resolve(answer); else reject(answer);
      }
      acks[message.client_id] = { socket: socket, done: settle, fail: function () { settle(null); } };
      socket.send(JSON.stringify({ type: "message", text: message.text, client_id: message.client_id }));
    });
  }
  function answered(clientId, answer) {
    if (clientId && acks[clientId]) acks[clientId].done(answer);
  }
  function retry(message, attempt) {
    mark(message, T.failed);
    setTimeout(function () { flush(attempt + 1); }, Math.min(30000, 1000 * Math.pow(2, attempt)));
  }
  function mark(message, text) {
    var item = pendingEls[message.client_id];
    var note = item && item.querySelector(".ocw-state");
    if (note) note.textContent = text;
  }

  // A site that signed its logged-in customer in (window.OmnicaseWidgetIdentity, its own JWT): their own
  // conversation, the same on every device; another identity (or none) than the stored one starts afresh.
  var IDENTITY = typeof window.OmnicaseWidgetIdentity === "string" ? window.OmnicaseWidgetIdentity : null;
  if ((state.identity || null) !== IDENTITY) {
    state = { pending: state.pending || [], identity: IDENTITY }; save();
  }
  if (IDENTITY && !state.token) ensureConversation().then(connect, function () { /* said when they write */ });
  // A reload: the conversation and whatever was not acknowledged yet come back.
  state.pending.forEach(function (message) {
    pendingEls[message.client_id] = bubble("visitor", message.text, T.sending);
  });
  if (state.token) connect();
  flush(0);
  window.addEventListener("online", function () { flush(0); });
})();
