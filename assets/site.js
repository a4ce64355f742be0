/*
 * AltFrame's pages, made a little nicer with JavaScript. Nothing here is needed to read a
 * page or to submit a form:
 *
 * - elements marked data-js-only (and hidden in the HTML) are shown, since they work only
 *   with this script: the copy buttons;
 * - <button data-copy="ID"> copies the text of the element with that id (the value of an
 *   input or textarea) and says "Copied" through the page's polite live region; where the
 *   clipboard is out of reach it selects the text instead, for Ctrl+C;
 * - <form data-confirm="message"> asks confirm(message) before it is sent (checked before
 *   any other submit handler, htmx's too);
 * - tables (.table-wrap) and <pre> blocks are keyboard stops only while they overflow and
 *   so need scrolling.
 */
(function () {
  "use strict";

  /* Speaks `message` through #announcer (the layout has one; made if missing). */
  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region) {
      region = document.createElement("div");
      region.id = "announcer";
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    // Emptied first, so that the same message twice in a row is spoken twice.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function isField(element) {
    return element.tagName === "INPUT" || element.tagName === "TEXTAREA";
  }

  function select(element) {
    if (isField(element)) {
      element.focus();
      element.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  /* Shows "Copied" on the button for a moment, keeping its hidden words for screen readers. */
  function confirmOnButton(button) {
    var label = button.firstChild;
    if (!label || label.nodeType !== Node.TEXT_NODE) {
      return;
    }
    if (!button.hasAttribute("data-label")) {
      button.setAttribute("data-label", label.nodeValue);
    }
    label.nodeValue = "Copied";
    window.clearTimeout(button.copyTimer);
    button.copyTimer = window.setTimeout(function () {
      label.nodeValue = button.getAttribute("data-label");
    }, 2000);
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var text = isField(source) ? source.value : source.textContent;
    var fallback = function () {
      select(source);
      announce("Selected. Press Control+C, or Command+C, to copy.");
    };
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      confirmOnButton(button);
      announce("Copied");
    }, fallback);
  }

  /* A scrolling box must be reachable by keyboard; one that fits needs no tab stop. */
  function fitScrollables() {
    var boxes = document.querySelectorAll(".table-wrap, pre");
    Array.prototype.forEach.call(boxes, function (box) {
      var overflows =
        box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (overflows) {
        box.setAttribute("tabindex", "0");
      } else {
        box.removeAttribute("tabindex");
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (button) {
      event.preventDefault();
      copy(button);
    }
  });

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var message = form.getAttribute ? form.getAttribute("data-confirm") : null;
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  Array.prototype.forEach.call(document.querySelectorAll("[data-js-only]"), function (element) {
    element.hidden = false;
  });

  var pending = false;
  window.addEventListener("resize", function () {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        fitScrollables();
      });
    }
  });
  fitScrollables();

  // For the page scripts that load after this one (docs.js).
  window.altframe = { announce: announce, fitScrollables: fitScrollables };
})();
