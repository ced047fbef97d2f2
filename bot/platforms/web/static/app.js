/* The browser workspace's page (docs/web.md, "The page"): one view by ?open=.
 * Plain script, no build step, no eval, no inline handlers (strict CSP).
 * Globals from the vendored scripts: katex, markdownit. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg"; // a namespace name, never fetched
  const THEME_KEY = "studybot-theme";
  const NAME_KEY = "studybot-name"; // who signed in, so a reload (cookie) can say it again
  const DRAFT_DELAY_MS = 800;
  const DRAFT_RETRY_MS = 5000; // a draft not saved (server unreachable, busy) is tried again
  const PREVIEW_DELAY_MS = 120;
  const MAX_MATH = 2000; // characters in one formula before it is shown as text

  let csrf = "";

  /* ---------- status line ---------- */

  function setStatus(text, kind) {
    const el = $("status");
    el.textContent = text || "";
    el.className = kind || "";
  }

  /* ---------- Telegram theme ---------- */

  const THEME_VARS = {
    bg_color: "--bg",
    text_color: "--text",
    hint_color: "--hint",
    link_color: "--link",
    button_color: "--button",
    button_text_color: "--button-text",
    secondary_bg_color: "--secondary-bg",
  };

  function applyTheme(params) {
    const root = document.documentElement;
    let applied = false;
    for (const [key, variable] of Object.entries(THEME_VARS)) {
      const value = params[key];
      if (typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value)) {
        root.style.setProperty(variable, value);
        applied = true;
      }
    }
    if (applied && typeof params.bg_color === "string") {
      root.dataset.theme = luminance(params.bg_color) < 0.45 ? "dark" : "light";
    }
    return applied;
  }

  function luminance(hex) {
    let h = hex.slice(1);
    if (h.length === 3 || h.length === 4) h = h.split("").map((c) => c + c).join("");
    const n = (i) => parseInt(h.slice(i, i + 2), 16) / 255;
    return 0.2126 * n(0) + 0.7152 * n(2) + 0.0722 * n(4);
  }

  function loadTheme(hash) {
    const raw = hash.get("tgWebAppThemeParams");
    if (raw) {
      try {
        const params = JSON.parse(raw);
        if (params && typeof params === "object" && applyTheme(params)) {
          sessionStorage.setItem(THEME_KEY, JSON.stringify(params));
        }
        return;
      } catch (_) {
        /* a bad theme is no reason to stop */
      }
    }
    try {
      const saved = sessionStorage.getItem(THEME_KEY);
      if (saved) applyTheme(JSON.parse(saved));
    } catch (_) {
      /* storage may be unavailable */
    }
  }

  function remember(key, value) {
    try {
      if (value) sessionStorage.setItem(key, value);
      else sessionStorage.removeItem(key);
    } catch (_) {
      /* storage may be unavailable */
    }
  }

  function recall(key) {
    try {
      return sessionStorage.getItem(key) || "";
    } catch (_) {
      return "";
    }
  }

  /* Tell a Telegram client the page is ready (no script from telegram.org is loaded). */
  function telegramEvent(type) {
    const data = JSON.stringify({});
    try {
      if (window.TelegramWebviewProxy) {
        window.TelegramWebviewProxy.postEvent(type, data);
      } else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({ eventType: type, eventData: {} }));
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: {} }), "*");
      }
    } catch (_) {
      /* not inside Telegram */
    }
  }

  /* ---------- API ---------- */

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function readError(response) {
    let message = "";
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") message = body.error;
    } catch (_) {
      /* not JSON */
    }
    if (!message) message = `The server answered ${response.status}.`;
    if (response.status === 401 && !/open the workspace/i.test(message)) {
      message += " Open the workspace again from the chat.";
    } else if (response.status === 429) {
      const wait = response.headers.get("Retry-After");
      if (wait && !/second/.test(message)) message += ` Try again in ${wait} s.`;
    }
    return new ApiError(response.status, message);
  }

  async function api(method, path, body) {
    const headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, "The server cannot be reached. Check the connection and try again.");
    }
    if (!response.ok) throw await readError(response);
    return response.json();
  }

  function showError(error) {
    if (error instanceof ApiError && error.status === 401) remember(NAME_KEY, "");
    const message = error instanceof ApiError ? error.message : "Something went wrong on this page.";
    if (!(error instanceof ApiError)) console.error(error);
    setStatus(message, "error");
  }

  /* ---------- Markdown and math ---------- */

  // Deck text (prompts, references, cards) is hard-wrapped Markdown: a newline is a space.
  // What a learner types (the editor, answers) keeps each newline as a line break, as in chat.
  const md = window.markdownit({ html: false, linkify: false, typographer: false, breaks: false });
  const mdTyped = window.markdownit({ html: false, linkify: false, typographer: false, breaks: true });

  /* Replace math with private-use placeholders so markdown cannot touch it; code spans and
   * fenced code keep their dollars. Returns [text, formulas]. */
  function protectMath(src) {
    const formulas = [];
    let out = "";
    let i = 0;
    const n = src.length;
    const hold = (tex, display) => {
      formulas.push({ tex, display });
      return `\uE000${formulas.length - 1}\uE001`;
    };
    const atLineStart = (k) => k === 0 || src[k - 1] === "\n";
    while (i < n) {
      const c = src[i];
      if (c === "`") {
        let run = 1;
        while (src[i + run] === "`") run++;
        const fence = "`".repeat(run);
        if (run >= 3 && atLineStart(i)) {
          const end = src.indexOf("\n" + fence, i + run);
          const stop = end < 0 ? n : end + 1 + run;
          out += src.slice(i, stop);
          i = stop;
          continue;
        }
        const end = src.indexOf(fence, i + run);
        if (end < 0) {
          out += fence;
          i += run;
          continue;
        }
        out += src.slice(i, end + run);
        i = end + run;
        continue;
      }
      if (c === "\\" && (src[i + 1] === "(" || src[i + 1] === "[")) {
        const close = src[i + 1] === "(" ? "\\)" : "\\]";
        const end = src.indexOf(close, i + 2);
        if (end >= 0) {
          out += hold(src.slice(i + 2, end), close === "\\]");
          i = end + 2;
          continue;
        }
      }
      if (c === "\\" && i + 1 < n) {
        out += src.slice(i, i + 2); // \$ stays an escaped dollar for markdown
        i += 2;
        continue;
      }
      if (c === "$" && src[i + 1] === "$") {
        const end = src.indexOf("$$", i + 2);
        if (end >= 0) {
          out += hold(src.slice(i + 2, end), true);
          i = end + 2;
          continue;
        }
      } else if (c === "$") {
        const end = findInlineClose(src, i + 1);
        if (end >= 0) {
          out += hold(src.slice(i + 1, end), false);
          i = end + 1;
          continue;
        }
      }
      out += c;
      i++;
    }
    return [out, formulas];
  }

  /* The closing $ of inline math: not escaped, the content not blank and not padded
   * with spaces (so "costs $5 and $6" stays text), and within one paragraph. */
  function findInlineClose(src, start) {
    if (start >= src.length || /\s/.test(src[start])) return -1;
    for (let k = start; k < src.length; k++) {
      const ch = src[k];
      if (ch === "\\") {
        k++;
        continue;
      }
      if (ch === "\n" && src[k + 1] === "\n") return -1;
      if (ch === "$") {
        if (k === start || /\s/.test(src[k - 1])) return -1;
        if (/[0-9]/.test(src[k + 1] || "")) return -1;
        return k;
      }
    }
    return -1;
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  }

  function typesetFormula(tex, display) {
    if (tex.length > MAX_MATH) return `<code>${escapeHtml(tex)}</code>`;
    try {
      return window.katex.renderToString(tex, {
        displayMode: display,
        throwOnError: false,
        trust: false,
        strict: "ignore",
        output: "htmlAndMathml",
        maxExpand: 500,
      });
    } catch (_) {
      return `<code>${escapeHtml(tex)}</code>`;
    }
  }

  /* Markdown with math → HTML. markdown-it runs with html:false, so any HTML in the text
   * is escaped; KaTeX's output (trust:false) is the only markup added. */
  function renderHtml(src, typed) {
    const [text, formulas] = protectMath(src || "");
    const html = (typed ? mdTyped : md).render(text);
    const formula = (k) => formulas[Number(k)];
    // markdown-it escapes every < and > of the text, so /<[^>]*>/ is exactly a tag. A
    // formula inside a tag (a link's title, an image's alt) is an attribute's value:
    // there it stays its escaped source, as KaTeX's markup would break out of the quotes.
    return html.replace(/<[^>]*>|\uE000(\d+)\uE001/g, (match, k) => {
      if (k === undefined) {
        return match.replace(/\uE000(\d+)\uE001/g, (_, j) => {
          const f = formula(j);
          return f ? escapeHtml(f.tex) : "";
        });
      }
      const f = formula(k);
      return f ? typesetFormula(f.tex, f.display) : "";
    });
  }

  /* Typeset Markdown with math into ``el``; ``typed``: the learner's own text (see md). */
  function typeset(el, src, typed) {
    // Parsed in an inert template first: nothing in it loads before it is checked.
    const template = document.createElement("template");
    template.innerHTML = renderHtml(src, typed);
    const root = template.content;
    for (const a of root.querySelectorAll("a[href]")) {
      a.rel = "noopener noreferrer";
      a.target = "_blank";
    }
    // A Markdown image from another origin would be refused by the CSP (and could track
    // the reader): it shows as its alt text instead.
    for (const img of root.querySelectorAll("img")) {
      const url = img.getAttribute("src") || "";
      let same = false;
      try {
        same = new URL(url, location.href).origin === location.origin;
      } catch (_) {
        same = false;
      }
      if (!same && !/^data:image\//i.test(url)) {
        img.replaceWith(document.createTextNode(`[${img.getAttribute("alt") || "image"}]`));
      }
    }
    el.replaceChildren(root);
    fitFormulas(el);
  }

  /* A display formula wider than its box: first shrunk, down to MIN_MATH_SCALE of its
   * size; what is still too wide scrolls sideways in its own box, marked "wide" (an edge
   * shadow shows there is more: phones hide scrollbars). Again when the window changes. */
  const MIN_MATH_SCALE = 0.75;

  function fitFormulas(root) {
    for (const box of root.querySelectorAll(".katex-display")) {
      const katexEl = box.querySelector(".katex");
      if (!katexEl) continue;
      katexEl.style.fontSize = "";
      box.classList.remove("wide");
      const room = box.clientWidth;
      const needed = box.scrollWidth;
      if (!room || needed <= room) continue;
      const scale = Math.max(MIN_MATH_SCALE, (room - 1) / needed);
      katexEl.style.fontSize = `${(1.1 * scale).toFixed(3)}em`; // app.css: .katex 1.1em
      if (box.scrollWidth > box.clientWidth) box.classList.add("wide");
    }
  }

  let fitTimer = 0;
  function fitLater() {
    window.clearTimeout(fitTimer);
    fitTimer = window.setTimeout(() => fitFormulas(document), 100);
  }
  window.addEventListener("resize", fitLater);
  // KaTeX's fonts arrive after the first typesetting and change its widths.
  if (document.fonts) document.fonts.addEventListener("loadingdone", () => fitFormulas(document));

  function imageElement(src, alt) {
    if (typeof src !== "string" || !/^data:image\/[a-z0-9.+-]+;base64,/i.test(src)) return null;
    const img = document.createElement("img");
    img.src = src;
    img.alt = alt;
    img.className = "picture";
    return img;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* ---------- challenge ---------- */

  const challenge = {
    run: "",
    offset: 0, // server clock minus local clock, ms
    deadline: null,
    timerId: 0,
    saved: "",
    saveTimer: 0,
    previewTimer: 0,
    saving: false,
    saveFailed: false, // the last save failed: its error is on the status line
    hasDraft: false,
    pollsLeft: 30,
  };

  function runPath(suffix) {
    return `api/challenge/${encodeURIComponent(challenge.run)}${suffix || ""}`;
  }

  async function openChallenge(run) {
    challenge.run = run;
    $("view-challenge").hidden = false;
    bindEditor();
    const data = await api("GET", runPath());
    showChallenge(data, true);
  }

  function showChallenge(data, first) {
    const run = data.run || {};
    $("run-title").textContent = run.title || "Challenge";
    typeset($("prompt"), run.prompt || "");
    const serverNow = Date.parse(run.now);
    challenge.offset = Number.isFinite(serverNow) ? serverNow - Date.now() : 0;
    const deadline = Date.parse(run.deadline);
    challenge.deadline = Number.isFinite(deadline) ? deadline : null;

    const open = run.state === "open";
    $("compose").hidden = !open;
    if (first) {
      const editor = $("editor");
      const text = data.draft ? data.draft.text : data.submission && data.submission.text;
      editor.value = text || "";
      challenge.saved = editor.value;
      renderPreview();
      challenge.hasDraft = Boolean(data.draft);
      $("draft-state").textContent = data.draft ? "Draft saved" : "";
    }
    const submitted = Boolean(data.submission && data.submission.submitted_at);
    $("submitted").hidden = !submitted;
    if (submitted && open) $("submit").textContent = "Submit again";

    if (run.state === "cancelled") {
      setStatus("This challenge was cancelled.", "error");
      stopTimer();
      $("timer").textContent = "";
    } else if (open) {
      startTimer();
    } else {
      stopTimer();
      $("timer").textContent = "Revealed";
    }
    if (data.grading) showGrading(data.grading);
    const sub = data.submission;
    $("share").hidden = !(run.state === "revealed" && sub && sub.submitted_at && !sub.shared);
    showOthers(data.others);
  }

  function startTimer() {
    stopTimer();
    tick();
    challenge.timerId = window.setInterval(tick, 1000);
  }

  function stopTimer() {
    if (challenge.timerId) window.clearInterval(challenge.timerId);
    challenge.timerId = 0;
  }

  function tick() {
    const timer = $("timer");
    if (challenge.deadline === null) {
      timer.textContent = "";
      return;
    }
    const left = challenge.deadline - (Date.now() + challenge.offset);
    if (left <= 0) {
      timer.textContent = "Time is up";
      timer.classList.add("over");
      stopTimer();
      pollForReveal();
      return;
    }
    const seconds = Math.ceil(left / 1000);
    const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
    const ss = String(seconds % 60).padStart(2, "0");
    timer.textContent = `${mm}:${ss}`;
    timer.classList.toggle("soon", seconds <= 60);
  }

  /* After the deadline the run is revealed by the server; look again a few times. */
  function pollForReveal() {
    if (challenge.pollsLeft <= 0) return;
    challenge.pollsLeft--;
    window.setTimeout(async () => {
      try {
        const data = await api("GET", runPath());
        if (data.run && data.run.state === "open") pollForReveal();
        else showChallenge(data, false);
      } catch (error) {
        showError(error);
      }
    }, 15000);
  }

  let editorBound = false;
  function bindEditor() {
    if (editorBound) return;
    editorBound = true;
    const editor = $("editor");
    editor.addEventListener("input", () => {
      window.clearTimeout(challenge.previewTimer);
      challenge.previewTimer = window.setTimeout(renderPreview, PREVIEW_DELAY_MS);
      window.clearTimeout(challenge.saveTimer);
      if (editor.value !== challenge.saved) {
        $("draft-state").textContent = "Editing…";
        challenge.saveTimer = window.setTimeout(saveDraft, DRAFT_DELAY_MS);
      } else if (!challenge.saving) {
        $("draft-state").textContent = challenge.hasDraft ? "Draft saved" : "";
      }
    });
    for (const button of $("insert-bar").querySelectorAll("button")) {
      button.addEventListener("click", () => {
        insertAround(editor, button.dataset.before || "", button.dataset.after || "");
      });
    }
    $("submit").addEventListener("click", submitAnswer);
    $("photo").addEventListener("change", sendPhoto);
    $("assess").addEventListener("click", sendAssessment);
    $("share").addEventListener("click", shareAnswer);
    $("rubric").addEventListener("change", () => {
      if ($("status").className === "error") setStatus("");
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") saveDraftNow();
    });
    window.addEventListener("pagehide", saveDraftNow);
  }

  function insertAround(editor, before, after) {
    const start = editor.selectionStart;
    const end = editor.selectionEnd;
    const chosen = editor.value.slice(start, end);
    editor.focus();
    editor.setRangeText(before + chosen + after, start, end, "end");
    const caret = start + before.length + chosen.length;
    editor.setSelectionRange(caret, caret);
    editor.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function renderPreview() {
    const text = $("editor").value;
    const preview = $("preview");
    if (text.trim()) {
      typeset(preview, text, true);
      preview.classList.remove("empty");
    } else {
      preview.textContent = "The typeset answer shows here as you write.";
      preview.classList.add("empty");
    }
  }

  async function saveDraft() {
    const text = $("editor").value;
    if (text === challenge.saved) return;
    if (challenge.saving) {
      challenge.saveTimer = window.setTimeout(saveDraft, DRAFT_DELAY_MS);
      return;
    }
    challenge.saving = true;
    $("draft-state").textContent = "Saving…";
    try {
      await api("PUT", runPath("/draft"), { text });
      challenge.saved = text;
      challenge.hasDraft = true;
      if ($("editor").value === text) $("draft-state").textContent = "Draft saved";
      if (challenge.saveFailed) setStatus(signedIn()); // the error it showed is over
      challenge.saveFailed = false;
    } catch (error) {
      // Unreachable, overloaded or rate-limited: try again by itself, so that the last
      // words typed are saved even if no key is pressed after the server is back.
      const again = error instanceof ApiError && (error.status === 0 || error.status === 429 || error.status >= 500);
      $("draft-state").textContent = again ? "Draft not saved yet: trying again…" : "Draft not saved";
      challenge.saveFailed = true;
      showError(error);
      if (again) {
        window.clearTimeout(challenge.saveTimer);
        challenge.saveTimer = window.setTimeout(saveDraft, DRAFT_RETRY_MS);
      }
    } finally {
      challenge.saving = false;
    }
  }

  /* On leaving the page: a keepalive request outlives it. */
  function saveDraftNow() {
    if (!challenge.run || $("compose").hidden) return;
    const text = $("editor").value;
    if (text === challenge.saved) return;
    window.clearTimeout(challenge.saveTimer);
    challenge.saved = text;
    try {
      fetch(runPath("/draft"), {
        method: "PUT",
        keepalive: true,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
        body: JSON.stringify({ text }),
      }).catch(() => undefined);
    } catch (_) {
      /* the body may be over the keepalive limit; the debounced save covers most */
    }
  }

  function showNotice(outcome) {
    if (outcome && outcome.notice) setStatus(outcome.notice, outcome.alert ? "error" : "ok");
  }

  /* What the core refused, in its words: an alert notice or an error reply (time is up,
   * not an image...); null when it took the request. */
  function refusal(outcome) {
    if (!outcome) return null;
    if (outcome.alert && outcome.notice) return outcome.notice;
    const replies = [outcome.edit, ...(outcome.replies || [])];
    const error = replies.find((r) => r && r.kind === "error");
    return error ? error.text : null;
  }

  /* The core's answer to a submission ("Got your answer. It stays hidden until..."). */
  function showSaid(outcome, fallback) {
    const reply = ((outcome && outcome.replies) || []).find((r) => r.text && r.text.trim());
    if (outcome && outcome.notice) showNotice(outcome);
    else setStatus(reply ? reply.text : fallback, "ok");
  }

  async function submitAnswer() {
    const text = $("editor").value;
    if (!text.trim()) {
      setStatus("Write your answer first.", "error");
      return;
    }
    const button = $("submit");
    button.disabled = true;
    try {
      await saveDraft();
      const result = await api("POST", runPath("/answer"), { text });
      const refused = refusal(result.outcome);
      if (refused) {
        setStatus(refused, "error");
        return;
      }
      $("submitted").hidden = false;
      button.textContent = "Submit again";
      showSaid(result.outcome, "Your answer reached the challenge.");
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  }

  async function sendPhoto() {
    const input = $("photo");
    const file = input.files && input.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("csrf", csrf);
    form.append("photo", file, file.name || "photo");
    setStatus("Sending the photo…");
    try {
      const result = await api("POST", runPath("/photo"), form);
      const refused = refusal(result.outcome);
      if (refused) {
        setStatus(refused, "error");
        return;
      }
      $("submitted").hidden = false;
      showSaid(result.outcome, "The photo reached the challenge.");
    } catch (error) {
      showError(error);
    } finally {
      input.value = "";
    }
  }

  const GRADES = [
    [1, "Need to re-study"],
    [2, "Shaky"],
    [3, "Confident"],
  ];

  function showGrading(grading) {
    $("grading").hidden = false;
    const reference = $("reference");
    typeset(reference, grading.reference || "");
    const refImage = imageElement(grading.reference_image, "The reference's picture");
    if (refImage) reference.append(refImage);
    const answer = $("answer");
    if (grading.answer) typeset(answer, grading.answer, true);
    else answer.textContent = grading.answer_photo ? "" : "You sent no written answer.";
    const photo = imageElement(grading.answer_photo, "Your photo");
    if (photo) answer.append(photo);

    const form = $("rubric");
    form.replaceChildren();
    const rows = grading.rows || [];
    rows.forEach((row, i) => {
      const fieldset = el("fieldset", "row");
      const legend = el("legend");
      typeset(legend, row);
      fieldset.append(legend);
      const choices = el("div", "choices");
      for (const [value, label] of GRADES) {
        const wrap = el("label", `choice g${value}`);
        const input = document.createElement("input");
        input.type = "radio";
        input.name = `row-${i}`;
        input.value = String(value);
        input.checked = (grading.grades || [])[i] === value;
        input.disabled = Boolean(grading.assessed);
        wrap.append(input, el("span", "", `${value} · ${label}`));
        choices.append(wrap);
      }
      fieldset.append(choices);
      form.append(fieldset);
    });
    const checkpoints = grading.checkpoints || [];
    if (checkpoints.length) {
      // Not a fieldset: #rubric holds one fieldset per row (docs/web.md).
      const fieldset = el("div", "checks");
      fieldset.setAttribute("role", "group");
      fieldset.setAttribute("aria-labelledby", "checks-title");
      const title = el("p", "checks-title", "Checkpoints you reached");
      title.id = "checks-title";
      fieldset.append(title);
      checkpoints.forEach((point, i) => {
        const wrap = el("label", "check");
        const input = document.createElement("input");
        input.type = "checkbox";
        input.name = "check";
        input.value = String(i);
        input.checked = (grading.checks || []).includes(i);
        input.disabled = Boolean(grading.assessed);
        const text = el("span");
        typeset(text, point);
        wrap.append(input, text);
        fieldset.append(wrap);
      });
      form.append(fieldset);
    }
    form.dataset.rows = String(rows.length);
    $("assess").hidden = Boolean(grading.assessed);
    $("assessed").hidden = !grading.assessed;
  }

  async function sendAssessment() {
    const form = $("rubric");
    const count = Number(form.dataset.rows || "0");
    const grades = [];
    for (let i = 0; i < count; i++) {
      const chosen = form.querySelector(`input[name="row-${i}"]:checked`);
      if (!chosen) {
        setStatus(`Grade every row first (row ${i + 1} has no grade).`, "error");
        return;
      }
      grades.push(Number(chosen.value));
    }
    const checks = [...form.querySelectorAll('input[name="check"]:checked')].map((c) =>
      Number(c.value),
    );
    const button = $("assess");
    button.disabled = true;
    try {
      const result = await api("POST", runPath("/assess"), { grades, checks });
      const refused = refusal(result.outcome);
      if (refused) {
        setStatus(refused, "error");
        return;
      }
      $("assessed").hidden = false;
      button.hidden = true;
      for (const input of form.querySelectorAll("input")) input.disabled = true;
      showNotice(result.outcome);
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  }

  async function shareAnswer() {
    const button = $("share");
    button.disabled = true;
    try {
      const result = await api("POST", runPath("/share"));
      const refused = refusal(result.outcome);
      if (refused) {
        setStatus(refused, "error");
        return;
      }
      button.hidden = true;
      showNotice(result.outcome);
      // Only the others' answers change; the rubric keeps what is being ticked.
      showOthers((await api("GET", runPath())).others);
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  }

  function showOthers(others) {
    const box = $("others");
    box.replaceChildren();
    if (!Array.isArray(others) || !others.length) {
      box.append(el("p", "hint", "No other member has shared an answer yet."));
      return;
    }
    for (const other of others) {
      const item = el("article", "other box");
      item.append(el("h4", "", other.name || "A member"));
      const body = el("div", "md");
      if (other.text) typeset(body, other.text, true);
      else body.textContent = other.photo ? "(answered with a photo)" : "(no answer)";
      item.append(body);
      box.append(item);
    }
  }

  /* ---------- review ---------- */

  async function openReview() {
    $("view-review").hidden = false;
    const result = await api("GET", "api/review");
    showOutcome(result.outcome);
  }

  function showOutcome(outcome) {
    if (!outcome) return;
    showNotice(outcome);
    const replies = [outcome.edit, ...(outcome.replies || [])].filter(Boolean);
    // The newest reply with a card or buttons becomes the card; the others go to the feed.
    let current = null;
    for (const reply of replies) {
      if (reply.card || (reply.buttons && reply.buttons.length)) current = reply;
    }
    const feed = $("feed");
    for (const reply of replies) {
      if (reply === current || !reply.text) continue;
      const note = el("div", "md note");
      typeset(note, reply.text);
      feed.append(note);
    }
    while (feed.children.length > 5) feed.firstElementChild.remove();
    if (current) showReply(current);
    else if (outcome.close || replies.length) {
      $("card-buttons").replaceChildren();
    }
    if (outcome.close) {
      const note = el("p", "notice", outcome.close);
      feed.append(note);
    }
  }

  function showReply(reply) {
    const card = $("card");
    card.replaceChildren();
    if (reply.card) {
      const c = reply.card;
      const head = el("header", "card-head");
      head.append(el("span", "deck", c.deck || ""), el("strong", "", c.title || ""));
      card.append(head);
      const front = el("div", "front");
      typeset(front, c.front || "");
      card.append(front);
      const image = imageElement(c.image, c.title ? `Picture for ${c.title}` : "Card picture");
      if (image) card.append(image);
      if (c.typed_answer) {
        const typed = el("p", "typed");
        typed.append(el("span", "hint", "You typed: "), el("span", "", c.typed_answer));
        card.append(typed);
      }
      if (c.back) {
        card.append(el("hr"));
        const back = el("div", "back");
        typeset(back, c.back);
        card.append(back);
        for (const [key, label] of [["mnemonic", "Mnemonic"], ["notes", "Notes"]]) {
          if (!c[key]) continue;
          const extra = el("div", `extra ${key}`);
          extra.append(el("p", "hint", label));
          const body = el("div", "md");
          typeset(body, c[key]);
          extra.append(body);
          card.append(extra);
        }
      }
    } else {
      typeset(card, reply.text || "");
    }
    const box = $("card-buttons");
    box.replaceChildren();
    for (const row of reply.buttons || []) {
      const line = el("div", "button-row");
      for (const b of row) {
        const button = el("button", b.style === "primary" ? "primary" : "", b.label);
        button.type = "button";
        button.addEventListener("click", () => press(b.payload, box));
        line.append(button);
      }
      box.append(line);
    }
  }

  async function press(payload, box) {
    for (const b of box.querySelectorAll("button")) b.disabled = true;
    try {
      const result = await api("POST", "api/press", { payload, typed_answer: null });
      showOutcome(result.outcome);
    } catch (error) {
      showError(error);
      for (const b of box.querySelectorAll("button")) b.disabled = false;
    }
  }

  /* ---------- stats: inline SVG, no library ---------- */

  const W = 320;
  const H = 180;
  const PAD = { left: 42, right: 20, top: 10, bottom: 30 };
  // As app.css's media query: the labels are larger there, so fewer fit along an axis.
  const PHONE = window.matchMedia("(max-width: 600px)");

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function chart(title, summary) {
    const figure = el("figure", "chart");
    figure.append(el("figcaption", "", title));
    const svg = svgEl("svg", {
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-label": `${title}. ${summary}`,
      preserveAspectRatio: "xMidYMid meet",
    });
    svg.append(svgEl("title", {}, `${title}. ${summary}`));
    figure.append(svg);
    return [figure, svg];
  }

  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const xOf = (fraction) => PAD.left + fraction * plotW;
  const yOf = (fraction) => PAD.top + (1 - fraction) * plotH;

  /* A whole-number scale for counts: [top, number of steps], 3-5 steps of 1, 2 or 5 × 10^k. */
  function countScale(value) {
    const rough = Math.max(1, value) / 4;
    const p = 10 ** Math.floor(Math.log10(rough));
    let step = 10 * p;
    for (const m of [1, 2, 5]) {
      if (m * p >= rough) {
        step = m * p;
        break;
      }
    }
    step = Math.max(1, step);
    const steps = Math.max(1, Math.ceil(Math.max(1, value) / step));
    return [step * steps, steps];
  }

  function axes(svg, yMax, yFormat, ticks) {
    const n = ticks || 4;
    for (let i = 0; i <= n; i++) {
      const y = yOf(i / n);
      svg.append(svgEl("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
      svg.append(
        svgEl("text", { x: PAD.left - 3, y: y + 3.5, class: "tick", "text-anchor": "end" },
          yFormat((yMax * i) / n)),
      );
    }
    svg.append(svgEl("line", { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom, class: "axis" }));
  }

  /* A chart with nothing to plot says why, in its middle. */
  function emptyNote(svg, text) {
    svg.append(svgEl("text", { x: xOf(0.5), y: yOf(0.5), class: "note", "text-anchor": "middle" }, text));
  }

  function xLabels(svg, labels, centred) {
    const count = labels.length;
    if (!count) return;
    const every = Math.max(1, Math.ceil(count / (PHONE.matches ? 4 : 6)));
    labels.forEach((label, i) => {
      if (i % every !== 0) return;
      const x = centred ? xOf((i + 0.5) / count) : xOf(count === 1 ? 0.5 : i / (count - 1));
      svg.append(svgEl("text", { x, y: H - PAD.bottom + 19, class: "tick", "text-anchor": "middle" }, label));
    });
  }

  const shortDay = (iso) => {
    const d = new Date(`${iso}T00:00:00Z`);
    return Number.isNaN(d.getTime())
      ? String(iso)
      : `${d.getUTCDate()} ${d.toLocaleString("en", { month: "short", timeZone: "UTC" })}`;
  };

  function bars(svg, values, className) {
    const [max, steps] = countScale(Math.max(0, ...values));
    axes(svg, max, (v) => String(Math.round(v)), steps);
    const slot = plotW / Math.max(1, values.length);
    values.forEach((v, i) => {
      const h = (v / max) * plotH;
      svg.append(
        svgEl("rect", {
          x: PAD.left + i * slot + slot * 0.15,
          y: PAD.top + plotH - h,
          width: Math.max(1, slot * 0.7),
          height: Math.max(0, h),
          class: className,
        }),
      );
    });
  }

  function forecastChart(data) {
    const rows = data.forecast || [];
    const total = rows.reduce((s, r) => s + (r.due || 0), 0);
    const [figure, svg] = chart("Forecast: cards due per day", `${total} due over ${rows.length} days`);
    bars(svg, rows.map((r) => r.due || 0), "bar");
    xLabels(svg, rows.map((r) => shortDay(r.day)), true);
    return figure;
  }

  function workloadChart(data) {
    const rows = data.workload || [];
    const reviews = rows.reduce((s, r) => s + (r.reviews || 0), 0);
    const minutes = Math.round(rows.reduce((s, r) => s + (r.seconds || 0), 0) / 60);
    const [figure, svg] = chart("Workload: reviews per day", `${reviews} reviews, ${minutes} min`);
    bars(svg, rows.map((r) => r.reviews || 0), "bar alt");
    xLabels(svg, rows.map((r) => shortDay(r.day)), true);
    return figure;
  }

  const percent = (v) => `${Math.round(v * 100)}%`;

  function retentionChart(data) {
    const rows = (data.retention || []).filter((r) => r.reviews > 0);
    const target = typeof data.target === "number" ? data.target : 0.9;
    const [figure, svg] = chart(
      "Retention per week",
      `target ${percent(target)}; ${rows.length} weeks`,
    );
    axes(svg, 1, percent);
    const ty = yOf(target);
    svg.append(svgEl("line", { x1: PAD.left, x2: W - PAD.right, y1: ty, y2: ty, class: "target" }));
    svg.append(svgEl("text", { x: PAD.left + 4, y: ty - 4, class: "tick target-label" }, `target ${percent(target)}`));
    const n = rows.length;
    const point = (r, i) => [xOf((i + 0.5) / n), yOf(r.recalled / r.reviews)];
    if (n > 1) {
      svg.append(svgEl("polyline", { points: rows.map((r, i) => point(r, i).join(",")).join(" "), class: "line" }));
    }
    rows.forEach((r, i) => {
      const [x, y] = point(r, i);
      const dot = svgEl("circle", { cx: x, cy: y, r: 3.5, class: "dot" });
      dot.append(svgEl("title", {}, `${r.week}: ${r.recalled}/${r.reviews}`));
      svg.append(dot);
    });
    xLabels(svg, rows.map((r) => shortDay(r.week)), true);
    if (!n) emptyNote(svg, "No reviews of learned cards yet");
    return figure;
  }

  function calibrationChart(data) {
    const rows = data.calibration || [];
    const [figure, svg] = chart(
      "Calibration: predicted (→) vs actual (↑) recall",
      `${rows.length} bins; on the diagonal, predictions match`,
    );
    axes(svg, 1, percent);
    svg.append(svgEl("line", { x1: xOf(0), y1: yOf(0), x2: xOf(1), y2: yOf(1), class: "diagonal" }));
    const most = Math.max(1, ...rows.map((r) => r.reviews || 0));
    for (const r of rows) {
      const dot = svgEl("circle", {
        cx: xOf(r.predicted),
        cy: yOf(r.actual),
        r: 2.5 + 4 * Math.sqrt((r.reviews || 0) / most),
        class: "dot",
      });
      dot.append(svgEl("title", {}, `predicted ${percent(r.predicted)}, actual ${percent(r.actual)}, ${r.reviews} reviews`));
      svg.append(dot);
    }
    xLabels(svg, ["0%", "25%", "50%", "75%", "100%"], false);
    if (!rows.length) emptyNote(svg, "Not enough reviews yet");
    return figure;
  }

  function drawStats(data) {
    $("stats").replaceChildren(
      forecastChart(data),
      retentionChart(data),
      calibrationChart(data),
      workloadChart(data),
    );
  }

  async function openStats() {
    $("view-stats").hidden = false;
    const data = await api("GET", "api/stats");
    drawStats(data);
    // Fewer labels on a phone (app.css draws them larger there): drawn again on a change.
    PHONE.addEventListener("change", () => drawStats(data));
  }

  /* ---------- start-up ---------- */

  async function signIn(hash) {
    const initData = hash.get("tgWebAppData");
    const token = hash.get("link");
    let session = null;
    if (initData) {
      session = await api("POST", "api/session/telegram", { init_data: initData });
    } else if (token) {
      session = await api("POST", "api/session/link", { token });
    }
    if (initData || token) {
      history.replaceState(null, "", location.pathname + location.search);
    }
    if (session) {
      csrf = session.csrf || "";
      document.querySelector('meta[name="csrf"]').content = csrf;
      remember(NAME_KEY, session.name || "");
      setStatus(session.name ? `Signed in as ${session.name}` : "Signed in");
      return true;
    }
    csrf = document.querySelector('meta[name="csrf"]').content || "";
    if (!csrf) {
      remember(NAME_KEY, "");
      setStatus("Open the workspace from the chat to sign in.", "error");
      return false;
    }
    setStatus(signedIn());
    return true;
  }

  /* "Signed in as <name>": the name from this tab's sign-in, else the one the server put
   * in the page (a new tab opened with the cookie). */
  function signedIn() {
    const meta = document.querySelector('meta[name="learner"]');
    const name = recall(NAME_KEY) || (meta && meta.content) || "";
    return name ? `Signed in as ${name}` : "Signed in";
  }

  /* An error shows as a toast over the page; a tap puts it away. */
  $("status").addEventListener("click", () => {
    if ($("status").className === "error") setStatus("");
  });

  async function start() {
    const hash = new URLSearchParams(location.hash.slice(1));
    loadTheme(hash);
    telegramEvent("web_app_ready");
    telegramEvent("web_app_expand");
    const open = new URLSearchParams(location.search).get("open") || "";
    try {
      if (!(await signIn(hash))) return;
      if (open.startsWith("challenge:") && open.length > "challenge:".length) {
        await openChallenge(open.slice("challenge:".length));
      } else if (open === "review") {
        await openReview();
      } else if (open === "stats") {
        await openStats();
      } else {
        setStatus("Nothing to open here: use the button in the chat.", "error");
      }
    } catch (error) {
      if (initDataOrLinkLeft(hash)) history.replaceState(null, "", location.pathname + location.search);
      showError(error);
    }
  }

  function initDataOrLinkLeft(hash) {
    return (hash.has("tgWebAppData") || hash.has("link")) && location.hash.length > 1;
  }

  /* A new sign-in fragment on the same page (the same URL opened again) starts over. */
  window.addEventListener("hashchange", () => {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.has("tgWebAppData") || hash.has("link")) location.reload();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
