/* Intake forms (resident report, hotline entry, patrol report):
   - a searchable two-level category picker over the JSON embedded in the page (the <select>
     stays underneath: it is what the form submits, and what works without JavaScript);
   - photo previews;
   - a Leaflet map WITHOUT any tile layer: community and grid outlines from the site's own
     GeoJSON; tapping inside a grid marks the point (lat/lng hidden inputs). */
(function () {
  "use strict";

  var configNode = document.getElementById("intake-config");
  var config = configNode ? JSON.parse(configNode.textContent) : { text: {} };
  var T = config.text || {};

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // --- category picker -----------------------------------------------------------------------

  function initPicker() {
    var dataNode = document.getElementById("category-tree");
    var picker = document.querySelector("[data-cat-picker]");
    if (!dataNode || !picker) return;
    var select = document.getElementById("id_category");
    var tree = JSON.parse(dataNode.textContent);
    var search = picker.querySelector("[data-cat-search]");
    var chosen = picker.querySelector("[data-cat-chosen]");
    var groupsNode = picker.querySelector("[data-cat-groups]");
    var label = document.querySelector("[data-category-label]");
    var buttons = [];
    var names = {};

    picker.hidden = false;
    select.hidden = true;
    select.style.display = "none";
    search.id = "cat-search";
    if (label) label.setAttribute("for", "cat-search");

    function option(code, text, haystack) {
      var button = el("button", { type: "button", class: "cat-option", "data-code": code,
                                  "aria-pressed": "false" }, text);
      button._haystack = haystack.toLowerCase();
      buttons.push(button);
      return button;
    }

    tree.forEach(function (top) {
      var group = el("section", { class: "cat-group" });
      group.appendChild(el("h3", {}, top.name));
      var list = el("div", { class: "cat-options" });
      var topWords = [top.name, top.keywords || "", top.code].join(" ");
      if (!top.children.length) {
        names[top.code] = top.name;
        list.appendChild(option(top.code, top.name, topWords));
      }
      top.children.forEach(function (child) {
        names[child.code] = top.name + " / " + child.name;
        list.appendChild(option(child.code, child.name, [topWords, child.name, child.keywords || "",
          child.description || "", child.code].join(" ")));
      });
      group.appendChild(list);
      groupsNode.appendChild(group);
    });
    var empty = el("p", { class: "cat-empty muted", hidden: "" }, T.noMatch);
    groupsNode.appendChild(empty);

    function choose(code) {
      select.value = code;
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-code") === code ? "true" : "false");
      });
      chosen.textContent = code && names[code] ? T.chosenCategory + " " + names[code] : "";
    }

    groupsNode.addEventListener("click", function (event) {
      var button = event.target.closest(".cat-option");
      if (button) choose(button.getAttribute("data-code"));
    });

    search.addEventListener("input", function () {
      var term = search.value.trim().toLowerCase();
      var any = false;
      groupsNode.querySelectorAll(".cat-group").forEach(function (group) {
        var shown = 0;
        group.querySelectorAll(".cat-option").forEach(function (b) {
          var hit = !term || b._haystack.indexOf(term) !== -1;
          b.hidden = !hit;
          if (hit) shown += 1;
        });
        group.hidden = shown === 0;
        if (shown) any = true;
      });
      empty.hidden = any;
    });
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();  // Enter picks the only match instead of submitting the form
      var visible = buttons.filter(function (b) { return !b.hidden && !b.closest("[hidden]"); });
      if (visible.length === 1) choose(visible[0].getAttribute("data-code"));
    });

    if (select.value) choose(select.value);
  }

  // --- photos --------------------------------------------------------------------------------

  function initPhotos() {
    var input = document.querySelector("input[type=file][name=photos]");
    var preview = document.querySelector("[data-photo-preview]");
    var count = document.querySelector("[data-photo-count]");
    if (!input || !preview) return;
    input.addEventListener("change", function () {
      preview.textContent = "";
      var files = Array.prototype.slice.call(input.files || []);
      if (count) count.textContent = T.photosChosen.replace("%(n)s", String(files.length));
      files.slice(0, 9).forEach(function (file) {
        if (!/^image\//.test(file.type)) return;
        var img = el("img", { alt: file.name });
        img.src = URL.createObjectURL(file);
        preview.appendChild(img);
      });
      if (files.length > 9) preview.appendChild(el("p", { class: "field-error" }, T.tooMany));
    });
  }

  // --- map -----------------------------------------------------------------------------------

  function initMap() {
    var node = document.querySelector("[data-intake-map]");
    if (!node || typeof L === "undefined") return;
    var form = node.closest("form");
    var lat = form.elements.lat;
    var lng = form.elements.lng;
    var placeSelect = form.elements.place;
    var pointNode = document.querySelector("[data-map-point]");
    var clearButton = document.querySelector("[data-map-clear]");
    var allowed = config.places ? new Set(config.places) : null;
    var marker = null;
    var initialText = pointNode.textContent;

    var map = L.map(node, { attributionControl: false, zoomSnap: 0.25, minZoom: 3, maxZoom: 19,
                            tap: true });
    map.setView([39.9, 116.4], 11);

    function status(text, kind) {
      pointNode.textContent = text;
      pointNode.classList.toggle("is-set", kind === "set");
      pointNode.classList.toggle("is-error", kind === "error");
      pointNode.classList.toggle("muted", !kind);
    }

    function mark(latlng) {
      if (marker) marker.remove();
      marker = L.circleMarker(latlng, { className: "rz-marker", radius: 8, color: "#b8262b",
                                        weight: 3, fillColor: "#fff", fillOpacity: 1 }).addTo(map);
    }

    function setPoint(latlng, props) {
      lat.value = latlng.lat.toFixed(6);
      lng.value = latlng.lng.toFixed(6);
      mark(latlng);
      clearButton.hidden = false;
      var where = (props.parent_name ? props.parent_name + " · " : "") + props.name;
      if (allowed && !allowed.has(props.code)) {
        status(T.chosen + " " + where + " — " + T.notYours, "error");
        return;
      }
      status(T.chosen + " " + where, "set");
      if (placeSelect) {
        var codes = [props.code, props.parent_code];
        for (var i = 0; i < codes.length; i += 1) {
          if (codes[i] && placeSelect.querySelector("option[value='" + codes[i] + "']")) {
            placeSelect.value = codes[i];
            break;
          }
        }
      }
    }

    function clear() {
      lat.value = "";
      lng.value = "";
      if (marker) marker.remove();
      marker = null;
      clearButton.hidden = true;
      status(initialText, null);
    }

    clearButton.addEventListener("click", clear);

    map.on("click", function (event) {
      // Not inside any grid (clicks on a grid stop here, see below).
      if (marker) marker.remove();
      marker = null;
      lat.value = "";
      lng.value = "";
      clearButton.hidden = true;
      status(T.outside, "error");
      L.DomEvent.stop(event);
    });

    function draw(collection) {
      var grids = { type: "FeatureCollection", features: [] };
      var communities = { type: "FeatureCollection", features: [] };
      collection.features.forEach(function (f) {
        (f.properties.level === "grid" ? grids : communities).features.push(f);
      });
      var gridLayer = L.geoJSON(grids, {
        style: function () {
          return { className: "rz-grid", color: "#5b6775", weight: 1, opacity: 0.8,
                   fillColor: "#2f6fb5", fillOpacity: 0.08 };
        },
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(el("span", {}, feature.properties.name), { sticky: true });
          layer.on("click", function (event) {
            L.DomEvent.stop(event);
            setPoint(event.latlng, feature.properties);
          });
        },
      }).addTo(map);
      L.geoJSON(communities, {
        style: { className: "rz-community", color: "#263645", weight: 2, opacity: 0.8, fill: false },
        interactive: false,
      }).addTo(map);
      var focus = config.focus || "";
      var bounds = null;
      gridLayer.eachLayer(function (layer) {
        if (focus && layer.feature.properties.code.indexOf(focus) !== 0) return;
        bounds = bounds ? bounds.extend(layer.getBounds()) : L.latLngBounds(layer.getBounds());
        if (focus) {  // name the grids of the community in view
          L.tooltip({ permanent: true, direction: "center", className: "place-label",
                      interactive: false })
            .setLatLng(layer.getBounds().getCenter())
            .setContent(el("span", {}, layer.feature.properties.name))
            .addTo(map);
        }
      });
      if (!bounds) bounds = gridLayer.getBounds();
      if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10], animate: false });
      node.setAttribute("data-grids", String(grids.features.length));
      if (lat.value && lng.value) {
        var latlng = L.latLng(Number(lat.value), Number(lng.value));
        var hit = null;
        gridLayer.eachLayer(function (layer) {
          if (!hit && layer.getBounds().contains(latlng)) hit = layer.feature.properties;
        });
        mark(latlng);
        clearButton.hidden = false;
        if (hit) status(T.chosen + " " + (hit.parent_name ? hit.parent_name + " · " : "") + hit.name, "set");
      }
    }

    status(T.loading, null);
    fetch(config.boundariesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (collection) { status(initialText, null); draw(collection); })
      .catch(function () { status(T.loadFailed, "error"); });
  }

  initPicker();
  initPhotos();
  initMap();
})();
