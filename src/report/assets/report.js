/* neardup report. Every string from the data goes into the page through
   textContent or a checked attribute: article text is never parsed as HTML. */
(function () {
  'use strict';
  var RAW = JSON.parse(document.getElementById('neardup-data').textContent);
  var DATA = { report: RAW.report, rejected: RAW.rest.rejected, run: RAW.rest.run, search: RAW.rest.search };
  var R = DATA.report || { clusters: [], articles: [], summary: {} };
  var RUN = DATA.run || {};
  var PAGE = 50;

  // ---- small DOM helpers -------------------------------------------------
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'cls') e.className = v;
      else if (k === 'style') e.style.cssText = v; // CSSOM, which the CSP allows (style attributes are not)
      else if (k === 'on') for (var ev in v) e.addEventListener(ev, v[ev]);
      else e.setAttribute(k, String(v));
    }
    (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  /** Only http(s) URLs become links; anything else (javascript:, data:) is shown as text. */
  function safeLink(url, label) {
    var u = typeof url === 'string' ? url.trim() : '';
    if (/^https?:\/\/[^\s]+$/i.test(u)) return el('a', { href: u, target: '_blank', rel: 'noopener noreferrer nofollow', text: label || u });
    return el('span', { cls: 'muted', text: label ? label + ' (' + (u || 'no URL') + ')' : u || 'no URL' });
  }
  function fmtNum(n) { return typeof n === 'number' ? n.toLocaleString('en-US') : String(n == null ? '–' : n); }
  function fmtTime(s) { return s ? String(s).replace('T', ' ').replace(/:\d\d(\.\d+)?Z?$/, '').replace(/Z$/, '') : 'no date'; }
  function fmtLag(sec) {
    if (sec === null || sec === undefined) return '';
    var sign = sec < 0 ? '−' : '+';
    var m = Math.round(Math.abs(sec) / 60);
    if (m < 60) return sign + m + 'm';
    var h = Math.floor(m / 60);
    return h < 48 ? sign + h + 'h ' + (m % 60) + 'm' : sign + Math.round(h / 24) + 'd';
  }

  // ---- the same folding as neardup's normalizer, for search ---------------
  var FOLD = { 'أ': 'ا', 'إ': 'ا', 'آ': 'ا', 'ٱ': 'ا', 'ى': 'ي', 'ة': 'ه', 'ی': 'ي', 'ک': 'ك' };
  function normalize(s) {
    s = String(s || '').normalize('NFKC').toLowerCase();
    s = s.replace(/[\u064B-\u065F\u0670\u0640\u200B-\u200F\u202A-\u202E\u2066-\u2069\u061C\uFEFF]/g, '');
    s = s.replace(/[أإآٱىةیک]/g, function (c) { return FOLD[c]; });
    s = s.replace(/[\u0660-\u0669]/g, function (c) { return String(c.charCodeAt(0) - 0x660); });
    s = s.replace(/[\u06F0-\u06F9]/g, function (c) { return String(c.charCodeAt(0) - 0x6F0); });
    return s.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
  }

  // ---- indexes -------------------------------------------------------------
  var articles = {};
  R.articles.forEach(function (a) { articles[a.id] = a; });
  var clusters = R.clusters.map(function (c) {
    var origin = articles[c.origin] || {};
    var times = c.members.map(function (m) { return m.published_at; }).filter(Boolean).sort();
    var outlets = {};
    c.members.forEach(function (m) { outlets[m.outlet] = 1; });
    return {
      c: c, origin: origin, size: c.members.length, first: times[0] || '', day: (times[0] || '').slice(0, 10),
      outlets: Object.keys(outlets).sort(),
      search: (DATA.search && DATA.search[c.cluster_id]) || normalize([origin.title].concat(c.members.map(function (m) { return (articles[m.id] || {}).title; })).join(' ')),
    };
  });

  // ---- layout --------------------------------------------------------------
  var app = document.getElementById('app');
  var S = R.summary || {};
  var header = el('header', null, [
    el('h1', { text: 'neardup — تقرير إعادة النشر' }),
    el('span', { cls: 'sub', text: (RUN.inputs ? 'inputs: ' + RUN.inputs.join(', ') + ' · ' : '') + 'seed ' + (RUN.seed != null ? RUN.seed : '–') + ' · b=' + ((RUN.lsh || {}).bands || '–') + ' r=' + ((RUN.lsh || {}).rows || '–') }),
  ]);
  var tabs = [['overview', 'نظرة عامة'], ['clusters', 'المجموعات'], ['rejected', 'المرفوضات']];
  var nav = el('nav', { role: 'tablist' });
  var main = el('main', { id: 'main' });
  tabs.forEach(function (t) {
    nav.appendChild(el('button', { role: 'tab', id: 'tab-' + t[0], 'aria-selected': 'false', text: t[1], on: { click: function () { location.hash = t[0]; } } }));
  });
  app.appendChild(header);
  app.appendChild(nav);
  app.appendChild(main);

  function select(tab) {
    tabs.forEach(function (t) { document.getElementById('tab-' + t[0]).setAttribute('aria-selected', String(t[0] === tab)); });
  }

  // ---- overview ------------------------------------------------------------
  function card(n, label) { return el('div', { cls: 'card' }, [el('div', { cls: 'n', text: fmtNum(n) }), el('div', { cls: 'l', text: label })]); }
  function bars(rows, max) {
    var box = el('div', { cls: 'bars' });
    rows.forEach(function (r) {
      box.appendChild(el('div', { cls: 'bar' }, [el('span', { cls: 'lab', text: r[0] }), el('span', { cls: 'fill', style: 'width:' + Math.max(2, Math.round(240 * r[1] / (max || 1))) + 'px' }), el('span', { text: fmtNum(r[1]) })]));
    });
    return box;
  }
  function renderOverview() {
    main.textContent = '';
    var accepted = S.accepted || 0;
    var copies = S.articles_in_near_duplicate_clusters ? S.articles_in_near_duplicate_clusters - (S.near_duplicate_clusters || 0) : 0;
    main.appendChild(el('div', { cls: 'cards' }, [
      card(S.read, 'مقالات مقروءة'), card(accepted, 'مقبولة'), card(S.rejected, 'مرفوضة'),
      card(S.near_duplicate_clusters, 'مجموعات نسخ متطابقة'), card(S.story_clusters, 'قصص'),
      card(accepted ? (100 * copies / accepted).toFixed(1) + '%' : '0%', 'نسبة المقالات المنسوخة'),
      card(S.partial_pairs, 'أزواج نقل جزئي'),
    ]));
    // Who copies whom: copy edges counted from the source outlet to the copying outlet.
    var edgeCount = {}, outletTotal = {};
    var ids = {};
    R.articles.forEach(function (a) { ids[a.id] = a.outlet; });
    R.clusters.forEach(function (c) {
      if (c.kind !== 'story') return;
      c.edges.forEach(function (e) {
        var f = ids[e.from], t = ids[e.to];
        if (!f || !t) return;
        var k = f + '\u0000' + t;
        edgeCount[k] = (edgeCount[k] || 0) + 1;
        outletTotal[f] = (outletTotal[f] || 0) + 1;
        outletTotal[t] = (outletTotal[t] || 0) + 1;
      });
    });
    var top = Object.keys(outletTotal).sort(function (a, b) { return outletTotal[b] - outletTotal[a] || (a < b ? -1 : 1); }).slice(0, 20);
    var maxCell = 1;
    Object.keys(edgeCount).forEach(function (k) { maxCell = Math.max(maxCell, edgeCount[k]); });
    var heat = el('table', { cls: 'heat' });
    var hr = el('tr', null, [el('th', { text: 'المصدر ↓ / الناسخ ←' })]);
    top.forEach(function (o) { hr.appendChild(el('th', { cls: 'rot', text: o })); });
    heat.appendChild(hr);
    top.forEach(function (f) {
      var tr = el('tr', null, [el('th', { text: f })]);
      top.forEach(function (t) {
        var n = edgeCount[f + '\u0000' + t] || 0;
        var alpha = n ? 0.12 + 0.88 * n / maxCell : 0;
        tr.appendChild(el('td', { cls: 'c', title: f + ' → ' + t + ': ' + n, style: 'background:rgba(11,110,79,' + alpha.toFixed(3) + ');color:' + (alpha > 0.55 ? '#fff' : 'inherit'), text: n || '' }));
      });
      heat.appendChild(tr);
    });
    main.appendChild(el('section', { cls: 'panel' }, [el('h2', { text: 'من ينسخ من؟ (عدد مرات النقل من المصدر إلى الناسخ)' }), top.length ? heat : el('p', { cls: 'empty', text: 'لا توجد عمليات نقل.' })]));
    // Top origins and agencies, cluster sizes.
    var origins = {}, agencies = {}, sizes = {};
    R.clusters.forEach(function (c) {
      if (c.kind !== 'story') return;
      var o = ids[c.origin] || '?';
      origins[o] = (origins[o] || 0) + 1;
      c.agencies.forEach(function (g) { agencies[g] = (agencies[g] || 0) + 1; });
      var sz = c.members.length >= 10 ? '10+' : String(c.members.length);
      sizes[sz] = (sizes[sz] || 0) + 1;
    });
    function topRows(m, n) { return Object.keys(m).sort(function (a, b) { return m[b] - m[a] || (a < b ? -1 : 1); }).slice(0, n).map(function (k) { return [k, m[k]]; }); }
    var oRows = topRows(origins, 12), aRows = topRows(agencies, 12);
    var sRows = Object.keys(sizes).sort(function (a, b) { return parseInt(a, 10) - parseInt(b, 10); }).map(function (k) { return [k + ' مقالات', sizes[k]]; });
    main.appendChild(el('div', { cls: 'grid2' }, [
      el('section', { cls: 'panel' }, [el('h2', { text: 'أكثر المصادر الأصلية' }), oRows.length ? bars(oRows, oRows[0][1]) : el('p', { cls: 'empty', text: '—' })]),
      el('section', { cls: 'panel' }, [el('h2', { text: 'الوكالات المذكورة في القصص' }), aRows.length ? bars(aRows, aRows[0][1]) : el('p', { cls: 'empty', text: '—' })]),
      el('section', { cls: 'panel' }, [el('h2', { text: 'أحجام القصص' }), sRows.length ? bars(sRows, Math.max.apply(null, sRows.map(function (r) { return r[1]; }))) : el('p', { cls: 'empty', text: '—' })]),
    ]));
  }

  // ---- cluster list ----------------------------------------------------------
  var state = { q: '', kind: '', outlet: '', agency: '', day: '', status: '', sort: 'size', page: 0 };
  function options(values, label) {
    var s = [el('option', { value: '', text: label })];
    values.forEach(function (v) { s.push(el('option', { value: v, text: v })); });
    return s;
  }
  function uniq(list) { var m = {}; list.forEach(function (x) { if (x) m[x] = 1; }); return Object.keys(m).sort(); }
  function filtered() {
    var q = normalize(state.q);
    var terms = q ? q.split(' ') : [];
    var out = clusters.filter(function (x) {
      if (state.kind && x.c.kind !== state.kind) return false;
      if (state.outlet && x.outlets.indexOf(state.outlet) < 0) return false;
      if (state.agency && x.c.agencies.indexOf(state.agency) < 0) return false;
      if (state.day && x.day !== state.day) return false;
      if (state.status && x.c.status !== state.status) return false;
      for (var i = 0; i < terms.length; i++) if (x.search.indexOf(terms[i]) < 0) return false;
      return true;
    });
    out.sort(function (a, b) {
      if (state.sort === 'size') return b.size - a.size || (a.first < b.first ? -1 : 1);
      if (state.sort === 'new') return a.first < b.first ? 1 : a.first > b.first ? -1 : 0;
      return a.first < b.first ? -1 : a.first > b.first ? 1 : 0;
    });
    return out;
  }
  var listBox, pagerBox, countBox;
  function renderClusters() {
    main.textContent = '';
    var input = el('input', { type: 'search', id: 'search', placeholder: 'ابحث في العناوين (الهمزات والتشكيل لا تهم)…', 'aria-label': 'search', value: state.q });
    input.addEventListener('input', function () { state.q = input.value; state.page = 0; renderList(); });
    function sel(id, key, values, label) {
      var s = el('select', { id: id, 'aria-label': label }, options(values, label));
      s.value = state[key];
      s.addEventListener('change', function () { state[key] = s.value; state.page = 0; renderList(); });
      return s;
    }
    var sortSel = el('select', { id: 'sort', 'aria-label': 'sort' }, [el('option', { value: 'size', text: 'الأكبر أولا' }), el('option', { value: 'old', text: 'الأقدم أولا' }), el('option', { value: 'new', text: 'الأحدث أولا' })]);
    sortSel.value = state.sort;
    sortSel.addEventListener('change', function () { state.sort = sortSel.value; state.page = 0; renderList(); });
    main.appendChild(el('div', { cls: 'controls' }, [
      input,
      sel('f-kind', 'kind', ['near-duplicate', 'story'], 'كل الأنواع'),
      sel('f-outlet', 'outlet', uniq([].concat.apply([], clusters.map(function (x) { return x.outlets; }))), 'كل المصادر'),
      sel('f-agency', 'agency', uniq([].concat.apply([], clusters.map(function (x) { return x.c.agencies; }))), 'كل الوكالات'),
      sel('f-day', 'day', uniq(clusters.map(function (x) { return x.day; })), 'كل الأيام'),
      clusters.some(function (x) { return x.c.status; }) ? sel('f-status', 'status', ['new', 'grown'], 'الجديدة والنامية') : null,
      sortSel,
    ]));
    countBox = el('p', { cls: 'muted', id: 'count' });
    listBox = el('ul', { cls: 'clusters', id: 'cluster-list' });
    pagerBox = el('div', { cls: 'pager' });
    main.appendChild(countBox);
    main.appendChild(listBox);
    main.appendChild(pagerBox);
    renderList();
  }
  function renderList() {
    var all = filtered();
    var pages = Math.max(1, Math.ceil(all.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    countBox.textContent = all.length + ' مجموعة';
    listBox.textContent = '';
    all.slice(state.page * PAGE, state.page * PAGE + PAGE).forEach(function (x) {
      var li = el('li', { tabindex: '0', 'data-cluster': x.c.cluster_id, role: 'link' }, [
        el('div', null, [el('span', { cls: 'badge' + (x.c.kind === 'story' ? ' story' : ''), text: x.c.kind === 'story' ? 'قصة' : 'نسخ متطابقة' }),
          x.c.status ? el('span', { cls: 'badge status-' + x.c.status, text: x.c.status === 'grown' ? 'قديمة نمت الليلة' : 'جديدة الليلة' }) : null,
          el('span', { cls: 'title', text: x.origin.title || x.c.origin })]),
        el('div', { cls: 'meta' }, [
          el('span', { text: x.size + ' مقالات' }), el('span', { text: 'الأصل: ' + ((x.origin.outlet || '') + ' · ' + fmtTime(x.origin.published_at)) }),
          el('span', { text: x.outlets.join('، ') }), x.c.agencies.length ? el('span', { text: 'وكالات: ' + x.c.agencies.join('، ') }) : null,
        ]),
      ]);
      function open() { location.hash = 'cluster=' + encodeURIComponent(x.c.cluster_id); }
      li.addEventListener('click', open);
      li.addEventListener('keydown', function (e) { if (e.key === 'Enter') open(); });
      listBox.appendChild(li);
    });
    if (!all.length) listBox.appendChild(el('li', { cls: 'empty', text: 'لا نتائج.' }));
    pagerBox.textContent = '';
    if (pages > 1) {
      pagerBox.appendChild(el('button', { text: 'السابق', disabled: state.page === 0 ? 'disabled' : null, on: { click: function () { state.page--; renderList(); } } }));
      pagerBox.appendChild(el('span', { text: (state.page + 1) + ' / ' + pages }));
      pagerBox.appendChild(el('button', { text: 'التالي', disabled: state.page >= pages - 1 ? 'disabled' : null, on: { click: function () { state.page++; renderList(); } } }));
    }
  }

  // ---- cluster view ------------------------------------------------------------
  function words(s) { return s.split(/(\s+)/); }
  /** Word-level diff of two paragraphs (LCS on normalized words): returns [{t, op}] for each side. */
  function diff(a, b) {
    var A = words(a), B = words(b);
    var wa = [], wb = [];
    A.forEach(function (w, i) { if (!/^\s+$/.test(w) && w) wa.push(i); });
    B.forEach(function (w, i) { if (!/^\s+$/.test(w) && w) wb.push(i); });
    var na = wa.map(function (i) { return normalize(A[i]); }), nb = wb.map(function (i) { return normalize(B[i]); });
    var n = na.length, m = nb.length;
    if (n * m > 400000) return null;
    var L = [];
    for (var i = 0; i <= n; i++) { L.push(new Uint16Array(m + 1)); }
    for (i = n - 1; i >= 0; i--) for (var j = m - 1; j >= 0; j--) L[i][j] = na[i] === nb[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    var keepA = {}, keepB = {};
    i = 0; j = 0;
    while (i < n && j < m) {
      if (na[i] === nb[j]) { keepA[wa[i]] = 1; keepB[wb[j]] = 1; i++; j++; } else if (L[i + 1][j] >= L[i][j + 1]) i++; else j++;
    }
    function side(W, keep, tag) {
      return W.map(function (w, k) { return { t: w, op: /^\s*$/.test(w) || keep[k] ? '' : tag }; });
    }
    return [side(A, keepA, 'del'), side(B, keepB, 'ins')];
  }
  function paraNode(article, p, cls, pieces) {
    var node = el('div', { cls: 'para' + (cls ? ' ' + cls : '') });
    if (p.boilerplate) { node.className = 'para boiler'; node.setAttribute('data-kind', p.boilerplate); }
    if (pieces) pieces.forEach(function (x) { node.appendChild(x.op ? el(x.op, { text: x.t }) : document.createTextNode(x.t)); });
    else node.textContent = article.text.slice(p.start, p.end);
    return node;
  }
  function renderCluster(id) {
    main.textContent = '';
    var x = clusters.filter(function (c) { return c.c.cluster_id === id; })[0];
    if (!x) { main.appendChild(el('p', { cls: 'empty', text: 'المجموعة غير موجودة: ' + id })); return; }
    var c = x.c, origin = x.origin;
    var RULES = { 'earliest-published': 'الأقدم نشرا', 'wire-agency-outlet': 'منفذ وكالة أنباء', 'credited-by-others': 'ينسبه إليه الآخرون', 'most-complete': 'النص الأكمل', 'id-order': 'ترتيب المعرف' };
    main.appendChild(el('p', null, [el('button', { cls: 'link', text: '→ كل المجموعات', on: { click: function () { location.hash = 'clusters'; } } })]));
    main.appendChild(el('section', { cls: 'panel', id: 'cluster-view' }, [
      el('div', null, [el('span', { cls: 'badge' + (c.kind === 'story' ? ' story' : ''), text: c.kind }), el('span', { cls: 'title', text: origin.title || c.origin })]),
      el('div', { cls: 'meta' }, [el('span', { text: 'الأصل: ' + (origin.outlet || '') + ' (' + c.origin + ')' }), el('span', { text: 'حُدد بقاعدة: ' + (RULES[c.origin_rule] || c.origin_rule) }),
        c.agencies.length ? el('span', { text: 'وكالات: ' + c.agencies.join('، ') }) : null, safeLink(origin.url, 'رابط الأصل')]),
    ]));
    // Timeline: members placed by publication time relative to the origin.
    var timed = c.members.filter(function (m) { return m.published_at && !isNaN(Date.parse(m.published_at)); });
    if (timed.length > 1) {
      var ts = timed.map(function (m) { return Date.parse(m.published_at); });
      var t0 = Math.min.apply(null, ts), t1 = Math.max.apply(null, ts);
      var tl = el('div', { cls: 'timeline', 'aria-label': 'timeline' });
      timed.forEach(function (m, k) {
        var f = t1 > t0 ? (ts[k] - t0) / (t1 - t0) : 0;
        var right = (4 + 92 * f).toFixed(1) + '%';
        tl.appendChild(el('span', { cls: 'dot' + (m.id === c.origin ? ' origin' : ''), style: 'right:' + right, title: m.outlet + ' · ' + fmtTime(m.published_at), on: { click: function () { compare(m.id); } } }));
        if (k < 12) tl.appendChild(el('span', { cls: 'tl', style: 'right:' + right + ';bottom:' + (0.7 + (k % 3) * 0.8) + 'rem', text: m.outlet }));
      });
      main.appendChild(el('section', { cls: 'panel' }, [el('h2', { text: 'الخط الزمني' }), tl]));
    }
    var lagOf = {};
    c.edges.forEach(function (e) { if (e.from === c.origin) lagOf[e.to] = e.lag_seconds; });
    var tbl = el('table', null, [el('tr', null, ['المصدر', 'الوقت', 'بعد الأصل', 'من الأصل', 'من غيره', 'فقرات مضافة', 'محذوفة', 'الإسناد', 'وكالات', 'الرابط', ''].map(function (h) { return el('th', { text: h }); }))]);
    c.members.forEach(function (m) {
      var a = articles[m.id] || {};
      tbl.appendChild(el('tr', null, [
        el('td', { text: m.outlet }), el('td', { text: fmtTime(m.published_at) }), el('td', { text: m.id === c.origin ? 'الأصل' : fmtLag(lagOf[m.id]) }),
        el('td', { text: Math.round(100 * m.share_from_origin) + '%' }), el('td', { text: Math.round(100 * m.share_from_others) + '%' }),
        el('td', { text: m.added.length }), el('td', { text: m.dropped.length }), el('td', { text: m.credits.join(' · ') }), el('td', { text: m.agencies.join('، ') }),
        el('td', null, [safeLink(a.url, 'فتح')]),
        el('td', null, [m.id === c.origin ? null : el('button', { cls: 'link', 'data-compare': m.id, text: 'قارن', on: { click: function () { compare(m.id); } } })]),
      ]));
    });
    main.appendChild(el('section', { cls: 'panel' }, [el('h2', { text: 'الأعضاء' }), tbl]));
    var sxsBox = el('div', { id: 'compare' });
    main.appendChild(sxsBox);
    function compare(memberId) {
      var m = c.members.filter(function (y) { return y.id === memberId; })[0];
      if (!m || memberId === c.origin) return;
      var a = articles[m.id], o = articles[c.origin];
      if (!a || !o) return;
      var byMember = {}, byOrigin = {};
      m.aligned.forEach(function (p) { byMember[p.start] = p; byOrigin[p.origin_start] = p; });
      var left = el('div', { cls: 'col' }, [el('h3', { text: 'الأصل: ' + o.outlet + ' — ' + o.title })]);
      var right = el('div', { cls: 'col' }, [el('h3', { text: a.outlet + ' — ' + a.title })]);
      // One column per side: a paragraph aligned with the other side is shown shared, with the word diff
      // of the pair (side 0 marks what the origin had, side 1 what the copy added).
      function column(col, article, alignedAt, side) {
        article.paragraphs.forEach(function (p) {
          var al = alignedAt[p.start];
          if (!al) return col.appendChild(paraNode(article, p, '', null));
          var d = diff(o.text.slice(al.origin_start, al.origin_end), a.text.slice(al.start, al.end));
          col.appendChild(paraNode(article, p, 'shared', d ? d[side] : null));
        });
      }
      column(left, o, byOrigin, 0);
      column(right, a, byMember, 1);
      sxsBox.textContent = '';
      sxsBox.appendChild(el('p', { cls: 'legend' }, [el('span', null, [el('i', { style: 'background:var(--shared)' }), 'نص مشترك']), el('span', null, [el('i', { style: 'background:var(--del)' }), 'حُذف من الأصل']), el('span', null, [el('i', { style: 'background:var(--ins)' }), 'أضافه الناسخ']), el('span', { cls: 'muted', text: 'الحشو (قوالب الموقع) باهت' })]));
      sxsBox.appendChild(el('div', { cls: 'sxs' }, [left, right]));
    }
    var firstCopy = c.members.filter(function (m) { return m.id !== c.origin; })[0];
    if (firstCopy) compare(firstCopy.id);
  }

  // ---- rejected ------------------------------------------------------------------
  function renderRejected() {
    main.textContent = '';
    var rows = DATA.rejected || [];
    var reasons = {};
    rows.forEach(function (r) { var k = String(r.reason).replace(/:.*$/, '').replace(/\(.*\)/, '').trim(); reasons[k] = (reasons[k] || 0) + 1; });
    var rr = Object.keys(reasons).sort(function (a, b) { return reasons[b] - reasons[a]; }).map(function (k) { return [k, reasons[k]]; });
    main.appendChild(el('section', { cls: 'panel' }, [el('h2', { text: rows.length + ' مدخلات مرفوضة' }), rr.length ? bars(rr, rr[0][1]) : el('p', { cls: 'empty', text: 'لا شيء مرفوض.' })]));
    var tbl = el('table', { id: 'rejected' }, [el('tr', null, ['الملف', 'السطر', 'المعرف', 'السبب'].map(function (h) { return el('th', { text: h }); }))]);
    rows.slice(0, 2000).forEach(function (r) { tbl.appendChild(el('tr', null, [el('td', { text: r.file }), el('td', { text: r.line == null ? '' : r.line }), el('td', { text: r.id == null ? '' : r.id }), el('td', { text: r.reason })])); });
    main.appendChild(el('section', { cls: 'panel' }, [tbl, rows.length > 2000 ? el('p', { cls: 'muted', text: 'أول 2000 فقط؛ القائمة كاملة في rejected.jsonl' }) : null]));
  }

  // ---- routing ---------------------------------------------------------------------
  function route() {
    var h = decodeURIComponent(location.hash.replace(/^#/, ''));
    if (h.indexOf('cluster=') === 0) { select('clusters'); renderCluster(h.slice(8)); }
    else if (h === 'clusters') { select('clusters'); renderClusters(); }
    else if (h === 'rejected') { select('rejected'); renderRejected(); }
    else { select('overview'); renderOverview(); }
    document.body.setAttribute('data-ready', 'true');
  }
  window.addEventListener('hashchange', route);
  route();
})();
