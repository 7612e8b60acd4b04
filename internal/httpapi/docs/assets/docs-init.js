// Starts Swagger UI on the element #swagger-ui, reading the OpenAPI URL from its data-spec attribute.
// Everything it loads comes from this server: the bundle is embedded in the binary, the spec is served
// next to it, and the validator badge (which would call an outside service) is off.
window.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-spec"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    persistAuthorization: false,
  });
});
