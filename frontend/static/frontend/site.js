/* What every page does with a few data attributes, instead of inline handlers (the Content-Security-Policy
 * allows no inline script): a select that submits its form when changed (data-autosubmit), a field that
 * selects its text when tapped (data-select), and a confirmation before a step that cannot be undone
 * (data-confirm names the question). Loaded by base.html after the JavaScript catalogue. */
(function () {
  "use strict";
  var QUESTIONS = {
    decline: gettext("确定不愿意调解吗？调解程序将终结。"),
    unreachable: gettext("确定记录无法联系被申请人并终结调解吗？"),
    regenerate_feed: gettext("重新生成后，原订阅地址立即失效，需要在日历应用中重新订阅。确定吗？")
  };

  function confirmed(element) {
    var question = QUESTIONS[element.getAttribute("data-confirm")];
    return !question || window.confirm(question);
  }

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    if (target.matches("input[data-select]")) { target.select(); }
    var asking = target.closest("button[data-confirm], input[data-confirm]");
    if (asking && !confirmed(asking)) { event.preventDefault(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") && !confirmed(form)) {
      event.preventDefault();
    }
  });
})();
