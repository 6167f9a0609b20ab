// Saving to the shortlist without leaving the page. Without this file the same buttons
// submit the form and the page comes back; with it, the same POST is sent with fetch()
// and the button, the count and (on the shortlist page) the list change in place.
(function () {
  "use strict";
  var form = document.querySelector("form[data-shortlist]");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.querySelector("[data-shortlist-status]");
  var link = document.querySelector("[data-shortlist-link]");

  function say(text) {
    if (status) status.textContent = text;
  }

  function toggle(button, saved) {
    button.name = saved ? "remove" : "add";
    button.setAttribute("aria-pressed", saved ? "true" : "false");
    button.firstChild.nodeValue = saved ? "Saved" : "Save";
  }

  // While the POST is on its way the button says it is busy but stays enabled: a disabled
  // button loses keyboard focus (to the body), and a keyboard user would have to find their
  // place on the page again.
  function busy(button, yes) {
    if (yes) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }

  function keepFocus(button, hadFocus) {
    if (hadFocus && document.activeElement !== button && button.isConnected) button.focus();
  }

  function removeItem(button, count) {
    var item = button.closest("[data-shortlist-item]");
    if (!item) return false;
    var list = item.parentNode;
    item.remove();
    var few = document.querySelector("[data-compare-few]");
    var compare = document.querySelector("[data-compare-button]");
    if (compare) compare.hidden = count < 2;
    if (few) few.hidden = count >= 2;
    if (!list.querySelector("[data-shortlist-item]")) {
      var empty = document.querySelector("[data-shortlist-empty]");
      var whole = document.querySelector("[data-shortlist-list]");
      if (empty) empty.hidden = false;
      if (whole) whole.hidden = true;
    }
    // The button that had focus is gone: the heading of the page takes it.
    var heading = document.querySelector("h1");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
    return true;
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.name) return; // the plain form submission
    event.preventDefault();
    if (button.getAttribute("aria-disabled") === "true") return; // already on its way
    var hadFocus = document.activeElement === button;
    var data = new FormData(form);
    data.append(button.name, button.value);
    busy(button, true);
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (answer) {
        busy(button, false);
        if (!answer.ok) {
          say(answer.body.error || "That did not work. Please try again.");
          keepFocus(button, hadFocus);
          return;
        }
        var body = answer.body;
        if (!body.saved && removeItem(button, body.count)) {
          say(body.message);
          return;
        }
        toggle(button, body.saved);
        if (link) link.hidden = body.count === 0;
        say(body.message);
        keepFocus(button, hadFocus);
      })
      .catch(function () {
        // No answer (offline, or not JSON): send the form the ordinary way.
        busy(button, false);
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = button.name;
        field.value = button.value;
        form.appendChild(field);
        form.submit();
      });
  });
})();
