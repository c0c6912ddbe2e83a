// The gateway's API documentation: Swagger UI (served from the gateway's jar) rendering the live OpenAPI document.
// "Try it out" calls this same gateway; "Authorize" takes a bearer token from POST /user/login.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#ui',
  deepLinking: true,
  // no calls to validator.swagger.io (the page's Content-Security-Policy would refuse them anyway)
  validatorUrl: null,
  displayOperationId: true,
  persistAuthorization: false
});
