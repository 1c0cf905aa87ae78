// Roster console: small progressive enhancements. Served from 'self' (the CSP allows no inline
// script). Every page works without it; this adds copy buttons, typed confirmation, reading an
// uploaded metadata file into its field, and polling a test report while it is pending.

function onReady(fn) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
  else fn();
}

onReady(() => {
  // Copy buttons: <button data-copy="field-id">, status in [data-copy-status="field-id"].
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const id = button.getAttribute("data-copy");
      const field = document.getElementById(id);
      const status = document.querySelector(`[data-copy-status="${CSS.escape(id)}"]`);
      if (!field) return;
      try {
        await navigator.clipboard.writeText(field.value);
        if (status) status.textContent = "Copied";
      } catch {
        field.focus();
        field.select();
        if (status) status.textContent = "Press Ctrl+C to copy";
      }
    });
  }
  for (const field of document.querySelectorAll("[data-select-on-focus]")) {
    field.addEventListener("focus", () => field.select());
  }

  // Typed confirmation: the button stays disabled until the word is typed exactly.
  for (const input of document.querySelectorAll("input[data-confirm-word]")) {
    const button = document.getElementById(input.getAttribute("data-confirm-button"));
    const word = input.getAttribute("data-confirm-word");
    if (!button) continue;
    const sync = () => {
      button.disabled = input.value !== word;
    };
    input.addEventListener("input", sync);
    sync();
  }

  // Metadata upload: <input type=file data-read-into="textarea-id"> fills the textarea.
  for (const input of document.querySelectorAll("input[type=file][data-read-into]")) {
    input.addEventListener("change", async () => {
      const target = document.getElementById(input.getAttribute("data-read-into"));
      const file = input.files?.[0];
      if (!target || !file) return;
      if (file.size > 1024 * 1024) {
        target.value = "";
        alert("That file is larger than 1 MB: it is not SAML metadata.");
        return;
      }
      target.value = await file.text();
    });
  }

  // Test configuration: open a tab on the click (a popup needs the click's user activation),
  // start the test, send that tab to the IdP sign-in and this one to the report. Without
  // JavaScript, or with popups blocked, the form posts normally and the page links the sign-in.
  for (const form of document.querySelectorAll("form[data-opens-sign-in]")) {
    form.addEventListener("submit", async (event) => {
      const tab = window.open("", "_blank");
      if (!tab) return;
      event.preventDefault();
      tab.opener = null;
      try {
        const res = await fetch(form.action, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Console-Fetch": "1" },
          body: new URLSearchParams(new FormData(form)),
        });
        if (!res.ok) throw new Error(String(res.status));
        const { loginUrl, reportUrl } = await res.json();
        tab.location.href = loginUrl;
        location.href = reportUrl;
      } catch {
        tab.close();
        form.submit();
      }
    });
  }

  // Polling: <div data-poll-url="…"> is replaced by the fragment at that URL until the
  // fragment says it is final (data-final on its root).
  for (const region of document.querySelectorAll("[data-poll-url]")) {
    const url = region.getAttribute("data-poll-url");
    let tries = 0;
    const tick = async () => {
      tries += 1;
      try {
        const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (res.ok) {
          const html = await res.text();
          const doc = new DOMParser().parseFromString(html, "text/html");
          const root = doc.body.firstElementChild;
          if (root) {
            region.replaceChildren(...root.childNodes);
            if (root.hasAttribute("data-final")) {
              region.removeAttribute("data-poll-url");
              region.setAttribute("data-final", "");
              // The rest of the page depends on the outcome (state, Enable): show it afresh.
              if (region.hasAttribute("data-reload-when-final")) setTimeout(() => location.reload(), 1500);
              return;
            }
          }
        }
      } catch {
        // Network hiccup: keep polling.
      }
      if (tries < 600) setTimeout(tick, 1500);
    };
    setTimeout(tick, 1000);
  }
});
