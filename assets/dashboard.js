/*
 * The dashboard, made a little nicer with JavaScript (every page works without it):
 * <time datetime="..."> elements show the moment in the viewer's own time zone, with the
 * UTC time the server wrote kept in the tooltip.
 */
(function () {
  "use strict";

  function localise() {
    var times = document.querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i++) {
      var element = times[i];
      var when = new Date(element.getAttribute("datetime"));
      if (isNaN(when.getTime())) {
        continue;
      }
      if (!element.title) {
        element.title = element.textContent;
      }
      element.textContent = when.toLocaleString(undefined, {
        day: "numeric",
        month: "short",
        year: "numeric",
        hour: "2-digit",
        minute: "2-digit"
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", localise);
  } else {
    localise();
  }
})();
