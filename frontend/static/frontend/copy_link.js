/* The in-app browser page's copy button: the room's link to the clipboard, or selected for a long press where the
 * app refuses the clipboard. */

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = document.getElementById(button.dataset.copy);
    const status = document.getElementById("inapp-copied");
    let done = false;
    try {
      await navigator.clipboard.writeText(input.value);
      done = true;
    } catch {
      input.focus();
      input.select();
      try {
        done = document.execCommand("copy");
      } catch {
        done = false;
      }
    }
    status.textContent = done
      ? gettext("已复制。请打开手机浏览器，粘贴到地址栏后打开。")
      : gettext("无法自动复制：请长按链接，选择“全选”和“复制”。");
  });
}
