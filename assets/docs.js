/*
 * "Try it" on the API reference (/docs). The page carries a form per operation, hidden
 * (data-try-it) because it needs this script: it is shown, and sent with fetch as the
 * operation's request. The API key is typed once, kept only in this tab's sessionStorage,
 * and sent as x-api-key. The answer's status and body are written into the form's
 * aria-live region as text, never as HTML.
 *
 * Everything an operation needs is read from its form: data-method, data-path, and the
 * fields' name and data-in (path, query, header or body). No spec text is in this script.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "altframe.docs.apiKey";
  /* Longest body shown; the rest is cut with a note. */
  var MAX_SHOWN = 200000;

  var shared = window.altframe || {
    announce: function () {},
    fitScrollables: function () {},
  };

  function storedKey() {
    try {
      return window.sessionStorage.getItem(STORAGE_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function storeKey(value) {
    try {
      if (value) {
        window.sessionStorage.setItem(STORAGE_KEY, value);
      } else {
        window.sessionStorage.removeItem(STORAGE_KEY);
      }
    } catch (e) {
      // Storage refused (a private window, say): the key then lasts as long as the page.
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  /* Writes a one-line message into the result region. */
  function say(result, message, isError) {
    clear(result);
    result.appendChild(element("p", isError ? "error-message" : "try-status", message));
  }

  function pretty(text, contentType) {
    if (contentType.indexOf("json") === -1) {
      return text;
    }
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      return text;
    }
  }

  function show(result, response, text, milliseconds) {
    clear(result);
    var status = element(
      "p",
      "try-status",
      response.status + " " + (response.statusText || "") + " in " + milliseconds + " ms"
    );
    var requestId = response.headers.get("x-request-id");
    if (requestId) {
      status.appendChild(element("span", "muted", " · x-request-id " + requestId));
    }
    result.appendChild(status);
    if (text) {
      var shown = pretty(text, response.headers.get("content-type") || "");
      var pre = element("pre");
      if (shown.length > MAX_SHOWN) {
        shown = shown.slice(0, MAX_SHOWN) + "\n… (cut: " + text.length + " characters in all)";
      }
      pre.appendChild(element("code", "", shown));
      result.appendChild(pre);
    }
    shared.fitScrollables();
  }

  /* The request a form describes, or an error message and the field at fault. */
  function request(form, key) {
    var path = form.getAttribute("data-path") || "";
    var query = new URLSearchParams();
    var headers = new Headers();
    var body;
    var fields = form.querySelectorAll("[data-in]");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      var value = field.value;
      var location = field.getAttribute("data-in");
      if (location === "path") {
        if (value === "") {
          return { error: "Fill in " + field.name + ".", field: field };
        }
        path = path.split("{" + field.name + "}").join(encodeURIComponent(value));
      } else if (location === "query" && value !== "") {
        query.append(field.name, value);
      } else if (location === "header" && value !== "") {
        headers.set(field.name, value);
      } else if (location === "body" && value.trim() !== "") {
        try {
          JSON.parse(value);
        } catch (e) {
          return { error: "The request body is not valid JSON: " + e.message, field: field };
        }
        body = value;
        headers.set("Content-Type", "application/json");
      }
    }
    if (key) {
      headers.set("x-api-key", key);
    }
    var search = query.toString();
    return {
      url: path + (search ? "?" + search : ""),
      init: {
        method: form.getAttribute("data-method") || "GET",
        headers: headers,
        body: body,
        credentials: "same-origin",
        cache: "no-store",
      },
    };
  }

  function send(event, keyInput) {
    event.preventDefault();
    var form = event.currentTarget;
    var result = form.querySelector(".try-result");
    var button = form.querySelector("button[type=submit]");
    var invalid = form.querySelectorAll("[aria-invalid=true]");
    Array.prototype.forEach.call(invalid, function (field) {
      field.removeAttribute("aria-invalid");
    });
    var built = request(form, keyInput ? keyInput.value.trim() : "");
    if (built.error) {
      say(result, built.error, true);
      built.field.setAttribute("aria-invalid", "true");
      built.field.focus();
      return;
    }
    say(result, "Sending " + built.init.method + " " + built.url + " …");
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    var started = window.performance.now();
    window
      .fetch(built.url, built.init)
      .then(function (response) {
        return response.text().then(function (text) {
          show(result, response, text, Math.round(window.performance.now() - started));
        });
      })
      .catch(function (error) {
        say(result, "No answer came: " + error.message, true);
      })
      .then(function () {
        button.disabled = false;
        form.removeAttribute("aria-busy");
      });
  }

  function setUp() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-try-it]"), function (node) {
      node.hidden = false;
    });

    // The curl examples' server: this one.
    var setup = document.querySelector("#shell-setup code");
    if (setup) {
      setup.textContent = setup.textContent.replace(
        /^export ALTFRAME_URL=.*$/m,
        "export ALTFRAME_URL=" + window.location.origin
      );
    }

    var keyInput = document.getElementById("try-key");
    if (keyInput) {
      keyInput.value = storedKey();
      keyInput.addEventListener("input", function () {
        storeKey(keyInput.value.trim());
      });
    }
    var forget = document.getElementById("try-key-forget");
    if (forget && keyInput) {
      forget.addEventListener("click", function () {
        keyInput.value = "";
        storeKey("");
        shared.announce("The key is forgotten.");
        keyInput.focus();
      });
    }

    Array.prototype.forEach.call(document.querySelectorAll("form.try-form"), function (form) {
      form.addEventListener("submit", function (event) {
        send(event, keyInput);
      });
    });
    shared.fitScrollables();
  }

  setUp();
})();
