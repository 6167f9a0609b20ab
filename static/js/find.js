// Small improvements to the search form; everything works without this file.
(function () {
  "use strict";
  var form = document.querySelector("form.find-form, form.home-search");
  if (!form) return;

  // "Use my location": fill lat/lng (rounded to about 100 m) and search from there.
  var button = form.querySelector("[data-use-location]");
  var near = form.querySelector("#id_near");
  var lat = form.querySelector("[data-lat]");
  var lng = form.querySelector("[data-lng]");
  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.textContent = "Finding you…";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(3);
          lng.value = position.coords.longitude.toFixed(3);
          near.value = "";
          form.submit();
        },
        function () {
          button.textContent = "Location not available: type a town or postcode";
        },
        { timeout: 10000, maximumAge: 600000 }
      );
    });
  }
  // Typing a place replaces a location found earlier.
  if (near && lat && lng) {
    near.addEventListener("input", function () { lat.value = ""; lng.value = ""; });
  }

  // Filters start open on wide screens, folded on phones.
  var filters = form.querySelector("[data-filters]");
  if (filters && window.matchMedia("(min-width: 48rem)").matches) filters.open = true;
})();
