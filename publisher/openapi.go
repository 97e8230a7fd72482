package publisher

import (
	_ "embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// openAPISpec is the API's OpenAPI 3 description, written by hand beside
// the handlers (openapi.json) and checked against the routes by the tests.
//
//go:embed openapi.json
var openAPISpec []byte

// apiPage is the Redoc page Walrus serves at /v1/api, with the spec inline.
var apiPage = template.Must(template.New("api").Parse(`<!DOCTYPE html>
<html>
<head>
<title>haulout publisher API</title>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<div id="redoc-container"></div>
<script src="https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"></script>
<script>Redoc.init({{.}}, {}, document.getElementById("redoc-container"));</script>
</body>
</html>
`))

// apiDocs serves GET /v1/api: the documentation page.
func (p *Publisher) apiDocs(c echo.Context) error {
	var b strings.Builder
	if err := apiPage.Execute(&b, template.JS(openAPISpec)); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}

// apiSpec serves GET /v1/api/openapi.json: the spec itself.
func (p *Publisher) apiSpec(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPISpec)
}
