//! The report's one inline script: tables sort on a click on a header (numbers by
//! value, text after them, the original order kept among equals, `aria-sort` telling
//! which column and which way; Enter and Space do the same for the keyboard), and a
//! tooltip follows the pointer over a chart's points with the text of their `<title>`
//! (which browsers show anyway, after a delay). Without the script the page reads the
//! same, unsorted.

/// The JavaScript of every report page.
pub const JS: &str = r#"(function(){
function key(td){
  var t=(td.getAttribute('data-v')||td.textContent).trim();
  var m=t.match(/^[+\-]?\d+(\.\d+)?(e[+\-]?\d+)?/i);
  return m?{n:parseFloat(m[0]),s:t}:{n:null,s:t.toLowerCase()};
}
function cmp(a,b){
  if(a.n!==null&&b.n!==null)return a.n-b.n;
  if(a.n!==null)return -1;
  if(b.n!==null)return 1;
  return a.s<b.s?-1:(a.s>b.s?1:0);
}
Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(table){
  if(!table.tHead||!table.tBodies.length)return;
  var ths=table.tHead.rows[0].cells;
  Array.prototype.forEach.call(ths,function(th,col){
    th.tabIndex=0;
    function sort(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      Array.prototype.forEach.call(ths,function(o){o.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var body=table.tBodies[0];
      var rows=Array.prototype.slice.call(body.rows);
      var keys=rows.map(function(r,i){return {r:r,i:i,k:key(r.cells[col])};});
      keys.sort(function(a,b){var c=cmp(a.k,b.k);return (asc?c:-c)||a.i-b.i;});
      keys.forEach(function(x){body.appendChild(x.r);});
    }
    th.addEventListener('click',sort);
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
  });
});
var tip=document.getElementById('tip');
function place(e){
  var w=tip.offsetWidth,h=tip.offsetHeight;
  var x=Math.min(e.clientX+14,window.innerWidth-w-8);
  var y=e.clientY+16;
  if(y+h>window.innerHeight-4)y=e.clientY-h-10;
  tip.style.left=Math.max(4,x)+'px';tip.style.top=Math.max(4,y)+'px';
}
document.addEventListener('mouseover',function(e){
  var t=e.target&&e.target.closest?e.target.closest('[data-tip]'):null;
  if(!t){tip.hidden=true;return;}
  tip.textContent=t.getAttribute('data-tip');tip.hidden=false;place(e);
});
document.addEventListener('mousemove',function(e){if(!tip.hidden)place(e);});
})();"#;
