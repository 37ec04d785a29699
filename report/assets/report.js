// pcapq report: draws the charts of the report with uPlot, and on the page
// pcapq serve serves, runs the SQL console and follows the live counters.
// Text from the capture reaches the page only through textContent and
// uPlot's canvas and textContent, never through HTML parsing.
(function () {
  "use strict";
  var palette = ["#2760c4", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#5c7cfa", "#e67700", "#087f5b"];
  var plots = [];

  function color(i) { return palette[i % palette.length]; }

  function fmtNum(v) {
    if (v == null) return "";
    var a = Math.abs(v);
    if (a >= 1e12) return +(v / 1e12).toFixed(2) + "T";
    if (a >= 1e9) return +(v / 1e9).toFixed(2) + "G";
    if (a >= 1e6) return +(v / 1e6).toFixed(2) + "M";
    if (a >= 1e4) return +(v / 1e3).toFixed(1) + "k";
    return String(+v.toFixed(3));
  }

  function widthOf(el) { return Math.max(320, Math.floor(el.getBoundingClientRect().width) - 4); }

  function timeChart(c, el) {
    var series = [{}];
    var data = [c.x];
    c.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: color(i), width: 1.5, fill: color(i) + "18", points: { show: c.x.length < 40 } });
      data.push(s.values);
    });
    var opts = {
      width: widthOf(el), height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      scales: { x: { time: true } },
      axes: [{ label: c.x_label }, { label: c.y_label, size: 70, values: function (u, vals) { return vals.map(fmtNum); } }],
      series: series,
    };
    return new uPlot(opts, data, el);
  }

  function barChart(c, el) {
    var n = c.labels.length;
    var x = c.labels.map(function (_, i) { return i; });
    var many = c.series.length;
    var series = [{ label: c.x_label, value: function (u, i) { return i == null ? "--" : c.labels[i]; } }];
    var data = [x];
    if (c.stacked) {
      // Cumulative sums, the total drawn first so that each part shows;
      // the legend gives each part's own value.
      var acc = c.labels.map(function () { return 0; }), cum = [];
      c.series.forEach(function (s) {
        acc = acc.map(function (a, k) { return a + s.values[k]; });
        cum.push(acc.slice());
      });
      for (var i = c.series.length - 1; i >= 0; i--) {
        (function (i) {
          series.push({
            label: c.series[i].label, stroke: color(i), fill: color(i) + "cc", width: 1,
            paths: uPlot.paths.bars({ size: [0.7, Infinity], align: 0 }), points: { show: false },
            value: function (u, v, si, idx) { return idx == null ? "--" : String(c.series[i].values[idx]); },
          });
          data.push(cum[i]);
        })(i);
      }
    } else {
      var many = c.series.length;
      c.series.forEach(function (s, i) {
        var size = many > 1 ? 0.8 - 0.3 * i : 0.7;
        series.push({
          label: s.label, stroke: color(i), fill: color(i) + (many > 1 ? "88" : "cc"), width: 1,
          paths: uPlot.paths.bars({ size: [size, Infinity], align: 0 }), points: { show: false },
        });
        data.push(s.values);
      });
    }
    var rotate = n > 8 ? -40 : 0;
    var opts = {
      width: widthOf(el), height: 260,
      scales: { x: { time: false, range: [-0.5, Math.max(n - 0.5, 0.5)] } },
      axes: [
        { label: c.x_label, splits: function () { return x; }, values: function (u, sp) { return sp.map(function (i) { return c.labels[i] == null ? "" : c.labels[i]; }); }, rotate: rotate, size: rotate ? 70 : 40, gap: 4 },
        { label: c.y_label, size: 70, values: function (u, vals) { return vals.map(fmtNum); } },
      ],
      series: series,
      legend: { show: true },
      cursor: { points: { show: false } },
    };
    return new uPlot(opts, data, el);
  }

  // drawCharts draws every chart of the report inside root from its JSON.
  function drawCharts(root) {
    plots.forEach(function (p) { p.u.destroy(); });
    plots = [];
    var src = root.querySelector("script#pcapq-charts");
    if (!src || typeof uPlot === "undefined") return;
    var charts = JSON.parse(src.textContent);
    charts.forEach(function (c) {
      var el = root.querySelector('[data-chart="' + c.id + '"]');
      if (!el) return;
      el.textContent = "";
      var u = c.kind === "time" ? timeChart(c, el) : barChart(c, el);
      plots.push({ u: u, el: el });
    });
    document.documentElement.setAttribute("data-charts-drawn", String(plots.length));
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      plots.forEach(function (p) { p.u.setSize({ width: widthOf(p.el), height: 260 }); });
    }, 150);
  });

  // el makes an element with text content.
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function cellText(v) {
    if (v === null || v === undefined) return "NULL";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  // resultTable builds a table of a query result {columns, rows}.
  function resultTable(res) {
    var t = el("table");
    var hr = el("tr");
    res.columns.forEach(function (c) { hr.appendChild(el("th", c)); });
    t.appendChild(el("thead")).appendChild(hr);
    var tb = t.appendChild(el("tbody"));
    res.rows.forEach(function (r) {
      var tr = el("tr");
      r.forEach(function (v) {
        var td = el("td", cellText(v), typeof v === "number" ? "n" : "");
        td.title = td.textContent; // the whole value, where the cell is cut
        tr.appendChild(td);
      });
      tb.appendChild(tr);
    });
    return t;
  }

  function post(path, body) {
    return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  function setupConsole() {
    var box = document.getElementById("console");
    if (!box) return;
    var sql = document.getElementById("sql"), msg = document.getElementById("qmsg");
    var err = document.getElementById("qerr"), out = document.getElementById("qres");
    function run() {
      msg.textContent = "running…"; err.textContent = ""; out.textContent = "";
      box.setAttribute("data-state", "running");
      post("api/query", { sql: sql.value }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, j: j }; });
      }).then(function (x) {
        if (!x.ok) {
          msg.textContent = ""; err.textContent = x.j.error || "query failed";
          box.setAttribute("data-state", "error");
          return;
        }
        out.appendChild(resultTable(x.j));
        msg.textContent = x.j.rows.length + " rows in " + x.j.elapsed_ms + " ms" + (x.j.notice ? " — " + x.j.notice : "");
        box.setAttribute("data-state", "done");
      }).catch(function (e) {
        msg.textContent = ""; err.textContent = String(e); box.setAttribute("data-state", "error");
      });
    }
    function csv() {
      err.textContent = "";
      post("api/query", { sql: sql.value, format: "csv" }).then(function (r) {
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.error || "query failed"); });
        var notice = r.headers.get("X-Pcapq-Notice");
        if (notice) msg.textContent = notice;
        return r.blob();
      }).then(function (b) {
        var a = el("a");
        a.href = URL.createObjectURL(b);
        a.download = "pcapq-query.csv";
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      }).catch(function (e) { err.textContent = String(e.message || e); });
    }
    document.getElementById("run").addEventListener("click", run);
    document.getElementById("csv").addEventListener("click", csv);
    sql.addEventListener("keydown", function (e) { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
  }

  function setupLive() {
    var live = document.getElementById("live");
    if (!live || typeof EventSource === "undefined") return;
    var plotEl = document.getElementById("live-plot");
    var xs = [], ys = [], lp = null;
    var lastRefresh = Date.now(), refreshing = false;
    var refreshMS = parseInt(live.getAttribute("data-refresh-ms"), 10) || 10000;
    var es = new EventSource("api/events");
    es.addEventListener("stats", function (ev) {
      var s = JSON.parse(ev.data);
      ["packets", "flows", "http", "tcp_events", "warnings", "pps"].forEach(function (k) {
        var e = document.getElementById("live-" + k);
        if (e) e.textContent = String(s[k]);
      });
      live.setAttribute("data-packets", String(s.packets));
      xs.push(s.t); ys.push(s.pps);
      if (xs.length > 300) { xs.shift(); ys.shift(); }
      if (!lp) {
        lp = new uPlot({
          width: widthOf(plotEl), height: 180, scales: { x: { time: true } },
          axes: [{ label: "time (local)" }, { label: "packets/s", size: 70, values: function (u, v) { return v.map(fmtNum); } }],
          series: [{}, { label: "packets/s", stroke: color(0), fill: color(0) + "22", width: 1.5 }],
        }, [xs, ys], plotEl);
      } else {
        lp.setData([xs, ys]);
      }
      if (s.recent) {
        ["flows", "http", "tcp_events"].forEach(function (k) {
          var box = document.getElementById("recent-" + k);
          if (box && s.recent[k]) { box.textContent = ""; box.appendChild(resultTable(s.recent[k])); }
        });
      }
      if (s.changed) pending = true;
      if (pending && !refreshing && Date.now() - lastRefresh > refreshMS) refreshReport();
    });
    var pending = false;
    function refreshReport() {
      refreshing = true;
      pending = false;
      fetch("fragment").then(function (r) { return r.text(); }).then(function (html) {
        // The fragment is the server's own escaped template output.
        var main = document.getElementById("report");
        var tmp = new DOMParser().parseFromString("<main>" + html + "</main>", "text/html");
        main.replaceChildren.apply(main, Array.prototype.slice.call(tmp.body.firstChild.childNodes));
        drawCharts(main);
        live.setAttribute("data-refreshed", String(Number(live.getAttribute("data-refreshed") || 0) + 1));
      }).finally(function () { refreshing = false; lastRefresh = Date.now(); });
    }
  }

  function start() {
    drawCharts(document);
    setupConsole();
    setupLive();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
