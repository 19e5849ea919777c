// Card issue page: the account list holds only the chosen customer's accounts, so a new customer reloads
// the page with that customer (select2 fires jQuery events, hence django.jQuery).
(function () {
  "use strict";
  if (!window.django || !window.django.jQuery) return;
  const $ = window.django.jQuery;
  $(function () {
    const account = document.getElementById("id_account");
    if (!account) return;
    $(document).on("change", "#id_customer", function () {
      const chosen = this.value;
      const params = new URLSearchParams(window.location.search);
      if (!chosen || params.get("customer") === chosen) return;
      params.set("customer", chosen);
      window.location.search = params.toString();
    });
  });
})();
