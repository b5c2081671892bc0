/** The report's style and script, inlined into report.html (allowed by CSP hash). */
export const REPORT_CSS = `body{font-family:system-ui,sans-serif;margin:0;padding:1rem;direction:rtl}`;
export const REPORT_JS = `(function(){var d=JSON.parse(document.getElementById('neardup-data').textContent);var app=document.getElementById('app');var h=document.createElement('h1');h.textContent='neardup';app.appendChild(h);var p=document.createElement('p');p.textContent=JSON.stringify(d.report.summary);app.appendChild(p);})();`;
