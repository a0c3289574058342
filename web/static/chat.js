/*
 * The patient assistant's chat widget: plain JavaScript, no build step, no CDN.
 *
 * Embed it with one script tag and a config object (see docs/widget.md):
 *   <script>window.KyphoChatConfig = {serverUrl: "https://assistant.example"};</script>
 *   <script src="https://pages.example/widget/chat.js" async></script>
 *
 * It talks to Rasa's socketio channel with socket.io-client 4.x, loaded from beside
 * this file (../vendor/socket.io.min.js). Everything lives in a shadow root so the
 * host page's CSS cannot break it and its CSS cannot leak out.
 *
 * Safety: bot and user text is only ever put into the page as text nodes
 * (textContent / createTextNode), never as HTML. The one thing turned into markup is
 * a UK phone number, which becomes a tel: link built with createElement.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ pure helpers
  // (exported for Node so tests can check them without a browser)

  // 01223 266900, 07700 900123, +44 1223 266900; 999 and 111 only after "call",
  // "dial" or "NHS", so a figure like "111 patients" stays text.
  // No lookbehind: Safari before 16.4 cannot parse it, and would lose the widget.
  var PHONE = /(^|[^\d+])((?:\+44\s?|0)\d{2,4}(?:\s?\d){6,8}|999|111)(?!\d)/g;
  var EMERGENCY_CONTEXT = /(?:call|dial|nhs|ring|phone)\s+$/i;

  function telHref(number) {
    var digits = number.replace(/\D/g, "");
    if (digits === "999" || digits === "111") return "tel:" + digits;
    if (number.trim().charAt(0) === "+") return "tel:+" + digits;
    return "tel:+44" + digits.slice(1);
  }

  /** [{type: "text"|"tel", value, href?}]: the text with its UK phone numbers picked out. */
  function phoneSegments(text) {
    var segments = [];
    var position = 0;
    var match;
    text = String(text == null ? "" : text);
    PHONE.lastIndex = 0;
    while ((match = PHONE.exec(text)) !== null) {
      var found = match[2];
      var start = match.index + match[1].length;
      var digits = found.replace(/\D/g, "");
      var ok;
      if (digits === "999" || digits === "111") {
        ok = EMERGENCY_CONTEXT.test(text.slice(Math.max(0, start - 12), start));
      } else {
        var national = found.charAt(0) === "+" ? digits.slice(2) : digits.slice(1);
        ok = national.length === 9 || national.length === 10;
      }
      if (!ok) continue;
      if (start > position) {
        segments.push({ type: "text", value: text.slice(position, start) });
      }
      segments.push({ type: "tel", value: found, href: telHref(found) });
      position = start + found.length;
    }
    if (position < text.length) segments.push({ type: "text", value: text.slice(position) });
    return segments;
  }

  /** What Rasa's socketio channel sends, as {text, replies: [{title, payload}]}. */
  function normaliseBotMessage(message) {
    if (message == null) return { text: "", replies: [], unsupported: true };
    if (typeof message === "string") return { text: message, replies: [] };
    var raw = message.quick_replies || message.buttons || [];
    if (!Array.isArray(raw)) raw = [];
    var replies = [];
    for (var i = 0; i < raw.length; i++) {
      var r = raw[i] || {};
      var title = String(r.title == null ? r.payload == null ? "" : r.payload : r.title);
      var payload = String(r.payload == null ? title : r.payload);
      if (title) replies.push({ title: title, payload: payload });
    }
    var text = typeof message.text === "string" ? message.text : "";
    return { text: text, replies: replies, unsupported: !text && !replies.length };
  }

  function parseColour(colour) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(colour || "").trim());
    if (!m) return null;
    var hex = m[1].length === 3 ? m[1].replace(/(.)/g, "$1$1") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
  }

  /** WCAG contrast ratio of two #rrggbb colours (null when one is not #rgb/#rrggbb). */
  function contrastRatio(a, b) {
    var ca = parseColour(a), cb = parseColour(b);
    if (!ca || !cb) return null;
    function luminance(rgb) {
      var c = rgb.map(function (v) {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
      });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    }
    var la = luminance(ca), lb = luminance(cb);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  var DEFAULTS = {
    serverUrl: "",
    socketPath: "/socket.io/",
    title: "Ask about balloon kyphoplasty",
    subtitle: "Automated assistant. General information, not medical advice.",
    launcherLabel: "Chat",
    placeholder: "Type your question",
    initPayload: "/greet",
    offlineMessage: "The assistant is not available right now. Please try again later.",
    colours: { primary: "#00566b", onPrimary: "#ffffff" },
    transports: ["polling", "websocket"],
    storageKey: "kyphoChat",
  };

  function mergeConfig(user) {
    var config = {};
    var key;
    for (key in DEFAULTS) config[key] = DEFAULTS[key];
    user = user && typeof user === "object" ? user : {};
    for (key in user) {
      if (Object.prototype.hasOwnProperty.call(DEFAULTS, key) && user[key] != null) {
        config[key] = user[key];
      }
    }
    config.colours = {
      primary: (user.colours && user.colours.primary) || DEFAULTS.colours.primary,
      onPrimary: (user.colours && user.colours.onPrimary) || DEFAULTS.colours.onPrimary,
    };
    config.serverUrl = String(config.serverUrl || "").replace(/\/+$/, "");
    return config;
  }

  var helpers = {
    phoneSegments: phoneSegments,
    telHref: telHref,
    normaliseBotMessage: normaliseBotMessage,
    contrastRatio: contrastRatio,
    mergeConfig: mergeConfig,
  };
  if (typeof module === "object" && module.exports) {
    module.exports = helpers;
    return;
  }
  if (typeof document === "undefined") return;

  // ------------------------------------------------------------------ the widget

  var thisScript =
    document.currentScript ||
    document.querySelector('script[src*="/widget/chat.js"]');
  var scriptUrl = thisScript ? thisScript.src : location.href;

  function readConfig() {
    var fromAttribute = null;
    if (thisScript && thisScript.getAttribute("data-config")) {
      try {
        fromAttribute = JSON.parse(thisScript.getAttribute("data-config"));
      } catch (error) {
        console.error("KyphoChat: data-config is not valid JSON:", error.message);
      }
    }
    return mergeConfig(fromAttribute || window.KyphoChatConfig || {});
  }

  var MAX_TRANSCRIPT = 200;
  var TYPING_TIMEOUT_MS = 30000;

  // Session storage, not local: the conversation survives a reload but goes when
  // the tab is closed, so the next person at a shared computer does not see it.
  function makeStore(key) {
    var memory = null;
    function blank() {
      return { sessionId: null, transcript: [], open: false, greeted: false };
    }
    return {
      load: function () {
        try {
          var raw = window.sessionStorage.getItem(key);
          var state = raw ? JSON.parse(raw) : null;
          if (state && Array.isArray(state.transcript)) return state;
        } catch (error) {
          if (memory) return memory;
        }
        return memory || blank();
      },
      save: function (state) {
        state.transcript = state.transcript.slice(-MAX_TRANSCRIPT);
        memory = state;
        try {
          window.sessionStorage.setItem(key, JSON.stringify(state));
        } catch (error) {
          /* storage full or disabled: the in-memory copy still works */
        }
      },
      blank: blank,
    };
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    var name;
    for (name in attributes || {}) {
      if (name === "text") node.textContent = attributes[name];
      else if (name === "hidden") node.hidden = !!attributes[name];
      else node.setAttribute(name, attributes[name]);
    }
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function svgIcon(pathData) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  /** Text with phone numbers as tel: links, as DOM nodes (never HTML). */
  function richText(text) {
    var fragment = document.createDocumentFragment();
    phoneSegments(text).forEach(function (segment) {
      if (segment.type === "tel") {
        fragment.appendChild(el("a", { href: segment.href, text: segment.value }));
      } else {
        fragment.appendChild(document.createTextNode(segment.value));
      }
    });
    return fragment;
  }

  function Widget(config) {
    this.config = config;
    this.store = makeStore(config.storageKey + ":" + config.serverUrl);
    this.state = this.store.load();
    this.socket = null;
    this.ready = false;
    this.queue = [];
    this.unread = 0;
    this.typingTimer = null;
    this.build();
    this.renderTranscript();
    if (this.state.open) this.open({ focus: false });
  }

  Widget.prototype.build = function () {
    var self = this;
    var config = this.config;
    var host = el("div", { id: "kypho-chat" });
    host.style.setProperty("--kc-primary", config.colours.primary);
    host.style.setProperty("--kc-on-primary", config.colours.onPrimary);
    var root = host.attachShadow({ mode: "open" });
    root.appendChild(el("link", { rel: "stylesheet", href: new URL("chat.css", scriptUrl).href }));

    this.launcher = el("button", {
      type: "button",
      class: "kc-launcher",
      "aria-expanded": "false",
      "aria-controls": "kc-panel",
      "aria-label": "Open chat: " + config.title,
    }, [
      svgIcon("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"),
      el("span", { class: "kc-launcher-label", "aria-hidden": "true", text: config.launcherLabel }),
    ]);
    this.badge = el("span", { class: "kc-badge", "aria-hidden": "true", hidden: true });
    this.launcher.appendChild(this.badge);

    this.status = el("p", { class: "kc-status", role: "status" });
    this.messages = el("ol", { class: "kc-messages" });
    this.scroller = el("div", {
      class: "kc-scroll",
      role: "region",
      tabindex: "0",
      "aria-label": "Conversation",
    }, [this.messages]);
    this.typing = el("div", { class: "kc-typing", "aria-hidden": "true", hidden: true }, [
      el("span"), el("span"), el("span"),
    ]);
    this.input = el("input", {
      id: "kc-input",
      class: "kc-input",
      type: "text",
      autocomplete: "off",
      maxlength: "1000",
      enterkeyhint: "send",
      placeholder: config.placeholder,
    });
    this.sendButton = el("button", { type: "submit", class: "kc-send" }, [
      el("span", { text: "Send" }),
    ]);
    this.form = el("form", { class: "kc-form" }, [
      el("label", { for: "kc-input", class: "kc-sr", text: "Your message" }),
      this.input,
      this.sendButton,
    ]);
    // New messages are read out from here, not from the transcript, so a screen
    // reader hears the assistant's answers once and not the visitor's own words.
    this.announcer = el("div", { class: "kc-sr kc-announcer", "aria-live": "polite" });
    this.restartButton = el("button", { type: "button", class: "kc-restart", text: "Restart" });
    this.closeButton = el("button", {
      type: "button",
      class: "kc-close",
      "aria-label": "Close chat",
    }, [svgIcon("M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z")]);

    this.panel = el("div", {
      id: "kc-panel",
      class: "kc-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "kc-title",
      "aria-describedby": "kc-subtitle",
      hidden: true,
    }, [
      el("div", { class: "kc-header" }, [
        el("div", { class: "kc-heading" }, [
          el("h2", { id: "kc-title", class: "kc-title", text: config.title }),
          el("p", { id: "kc-subtitle", class: "kc-subtitle", text: config.subtitle }),
        ]),
        this.restartButton,
        this.closeButton,
      ]),
      this.status,
      this.scroller,
      this.typing,
      this.form,
      this.announcer,
    ]);
    root.appendChild(el("div", { class: "kc-root" }, [this.launcher, this.panel]));
    this.root = root;
    this.host = host;

    this.launcher.addEventListener("click", function () {
      if (self.panel.hidden) self.open({ focus: true });
      else self.close();
    });
    this.closeButton.addEventListener("click", function () { self.close(); });
    this.restartButton.addEventListener("click", function () { self.restart(); });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value;
      if (!text.trim()) return;
      self.input.value = "";
      self.send(text, text);
    });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        self.close();
      }
    });

    var ratio = contrastRatio(config.colours.primary, config.colours.onPrimary);
    if (ratio !== null && ratio < 4.5) {
      console.warn(
        "KyphoChat: colours.primary and colours.onPrimary have a contrast of " +
          ratio.toFixed(2) + ":1; WCAG AA needs at least 4.5:1 for text."
      );
    }
    document.body.appendChild(host);
  };

  Widget.prototype.save = function () {
    this.store.save(this.state);
  };

  Widget.prototype.open = function (options) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", "Close chat: " + this.config.title);
    this.root.querySelector(".kc-root").classList.add("kc-is-open");
    this.state.open = true;
    this.save();
    this.setUnread(0);
    this.scrollToEnd();
    if (options && options.focus) this.input.focus();
    this.connect();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", "Open chat: " + this.config.title);
    this.root.querySelector(".kc-root").classList.remove("kc-is-open");
    this.state.open = false;
    this.save();
    this.launcher.focus();
  };

  Widget.prototype.setUnread = function (count) {
    this.unread = count;
    this.badge.hidden = count === 0;
    this.badge.textContent = String(count);
    var label = (this.panel.hidden ? "Open chat: " : "Close chat: ") + this.config.title;
    if (count) label += " (" + count + (count === 1 ? " new message)" : " new messages)");
    this.launcher.setAttribute("aria-label", label);
  };

  Widget.prototype.setStatus = function (text) {
    if (this.statusText === text) return;
    this.statusText = text;
    this.status.textContent = "";
    this.status.appendChild(richText(text));
    this.status.classList.toggle("kc-status--shown", !!text);
  };

  // ---------------------------------------------------------------- transcript

  Widget.prototype.renderEntry = function (entry, isLast) {
    var who = entry.from === "user" ? "You" : "Assistant";
    var bubble = el("div", { class: "kc-bubble" });
    if (entry.unsupported) {
      bubble.appendChild(
        document.createTextNode("The assistant sent something this chat cannot show.")
      );
    } else {
      bubble.appendChild(richText(entry.text));
    }
    var item = el("li", { class: "kc-message kc-message--" + entry.from }, [
      el("span", { class: "kc-sr", text: who + ": " }),
      bubble,
    ]);
    if (isLast && entry.from === "bot" && entry.replies && entry.replies.length) {
      item.appendChild(this.renderReplies(entry.replies));
    }
    return item;
  };

  Widget.prototype.renderReplies = function (replies) {
    var self = this;
    var group = el("div", { class: "kc-replies", role: "group", "aria-label": "Suggested answers" });
    replies.forEach(function (reply) {
      var button = el("button", { type: "button", class: "kc-reply", text: reply.title });
      button.addEventListener("click", function () {
        self.send(reply.payload, reply.title);
        self.input.focus();
      });
      group.appendChild(button);
    });
    return group;
  };

  Widget.prototype.renderTranscript = function () {
    var self = this;
    var transcript = this.state.transcript;
    this.messages.textContent = "";
    transcript.forEach(function (entry, index) {
      self.messages.appendChild(self.renderEntry(entry, index === transcript.length - 1));
    });
  };

  Widget.prototype.addEntry = function (entry) {
    var old = this.messages.querySelectorAll(".kc-replies");
    for (var i = 0; i < old.length; i++) old[i].remove();
    this.state.transcript.push(entry);
    this.save();
    this.messages.appendChild(this.renderEntry(entry, true));
    this.scrollToEnd();
  };

  Widget.prototype.scrollToEnd = function () {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  };

  Widget.prototype.announce = function (text) {
    var line = el("p", { text: "Assistant: " + text });
    this.announcer.appendChild(line);
    while (this.announcer.childNodes.length > 5) this.announcer.removeChild(this.announcer.firstChild);
  };

  Widget.prototype.showTyping = function (shown) {
    var self = this;
    clearTimeout(this.typingTimer);
    this.typing.hidden = !shown;
    if (shown) {
      this.setStatus("The assistant is typing…");
      this.scrollToEnd();
      this.typingTimer = setTimeout(function () { self.showTyping(false); }, TYPING_TIMEOUT_MS);
    } else if (this.statusText === "The assistant is typing…") {
      this.setStatus("");
    }
  };

  // ---------------------------------------------------------------- messages

  Widget.prototype.send = function (payload, shown) {
    if (shown) this.addEntry({ from: "user", text: shown });
    this.queue.push(payload);
    this.flush();
    this.showTyping(true);
  };

  Widget.prototype.flush = function () {
    // Only after session_confirm: a message sent before the socket has joined its
    // session's room would be answered to a room nobody is listening in.
    if (!this.ready) return;
    while (this.queue.length) {
      this.socket.emit("user_uttered", {
        message: this.queue.shift(),
        session_id: this.state.sessionId,
      });
    }
  };

  Widget.prototype.receive = function (message) {
    var bot = normaliseBotMessage(message);
    this.showTyping(false);
    this.addEntry({ from: "bot", text: bot.text, replies: bot.replies, unsupported: !!bot.unsupported });
    this.announce(bot.unsupported ? "The assistant sent something this chat cannot show." : bot.text);
    if (this.panel.hidden) this.setUnread(this.unread + 1);
  };

  // ---------------------------------------------------------------- connection

  Widget.prototype.loadSocketIo = function (then) {
    if (window.io) return then();
    var self = this;
    var existing = document.querySelector("script[data-kypho-socketio]");
    var script = existing || el("script", {
      src: new URL("../vendor/socket.io.min.js", scriptUrl).href,
      "data-kypho-socketio": "",
    });
    script.addEventListener("load", function () { then(); });
    script.addEventListener("error", function () {
      self.socket = null;
      self.setStatus(self.config.offlineMessage);
    });
    if (!existing) document.head.appendChild(script);
  };

  Widget.prototype.connect = function () {
    var self = this;
    if (this.socket) return;
    if (!this.config.serverUrl) {
      this.setStatus(this.config.offlineMessage);
      console.error("KyphoChat: no serverUrl in the config.");
      return;
    }
    this.socket = "loading";
    var generation = (this.generation = (this.generation || 0) + 1);
    this.setStatus("Connecting…");
    this.loadSocketIo(function () {
      if (generation !== self.generation) return; // restarted while loading
      var socket = window.io(self.config.serverUrl, {
        path: self.config.socketPath,
        transports: self.config.transports,
        reconnectionDelayMax: 10000,
      });
      self.socket = socket;
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: self.state.sessionId });
      });
      socket.on("session_confirm", function (data) {
        var id = data && typeof data === "object" ? data.session_id : data;
        self.state.sessionId = String(id);
        self.ready = true;
        self.setStatus(self.typing.hidden ? "" : "The assistant is typing…");
        if (!self.state.greeted && !self.state.transcript.length && self.config.initPayload) {
          self.state.greeted = true;
          self.send(self.config.initPayload, null);
        }
        self.save();
        self.flush();
      });
      socket.on("bot_uttered", function (message) { self.receive(message); });
      socket.on("disconnect", function () {
        self.ready = false;
        self.setStatus("Connection lost. Reconnecting…");
      });
      socket.on("connect_error", function () {
        self.ready = false;
        self.showTyping(false);
        self.setStatus(self.config.offlineMessage);
      });
    });
  };

  Widget.prototype.restart = function () {
    var socket = this.socket;
    // /restart clears the old conversation's slots (a half-filled callback form
    // holds a name and phone number); then a new session starts from scratch.
    if (socket && typeof socket === "object") {
      if (this.ready && this.state.sessionId) {
        socket.emit("user_uttered", { message: "/restart", session_id: this.state.sessionId });
      }
      socket.disconnect();
    }
    this.socket = null;
    this.generation = (this.generation || 0) + 1;
    this.ready = false;
    this.queue = [];
    this.showTyping(false);
    this.state = this.store.blank();
    this.state.open = !this.panel.hidden;
    this.save();
    this.renderTranscript();
    this.announcer.textContent = "";
    this.setStatus("Starting a new conversation…");
    this.input.focus();
    this.connect();
  };

  function start() {
    if (document.getElementById("kypho-chat")) return; // embedded twice
    window.KyphoChat = new Widget(readConfig());
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
