// The API reference (/docs): Swagger UI (vendored, see ../vendor.sh) renders the service's own
// /openapi.json. A file of its own because the page's Content-Security-Policy runs no inline
// script; no validator badge (it would call a third-party origin the policy refuses anyway).
window.addEventListener('DOMContentLoaded', function () {
  window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#api',
    deepLinking: true,
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
  });
});
