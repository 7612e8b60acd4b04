package mcpapi

import (
	"context"
	"net/url"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// skillScheme is the URI scheme of the skills as resources: skill://<id>.
const skillScheme = "skill"

// addPrompts offers every template as a prompt named after its id. The list is the templates as they
// are when the session starts; a prompt's text is read when it is fetched, so an edited template is
// served as it is now.
func (a *api) addPrompts(s *mcp.Server) {
	if a.o.Services == nil || a.o.Services.Templates == nil {
		return
	}
	list, err := a.o.Services.Templates.List(context.Background())
	if err != nil {
		a.log.Warn("mcp: listing templates for prompts", "error", err)
		return
	}
	for _, t := range list {
		id := t.ID
		s.AddPrompt(&mcp.Prompt{Name: id, Title: t.Name,
			Description: "The " + t.Role + " prompt template \"" + t.Name + "\"."},
			func(ctx context.Context, _ *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				cur, err := a.o.Services.Templates.Get(ctx, id)
				if err != nil {
					return nil, err
				}
				return &mcp.GetPromptResult{Description: cur.Name + " (" + cur.Role + ")",
					Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: cur.Content}}}}, nil
			})
	}
}

// addResources offers every valid skill as a resource, skill://<id>, whose text is the skill's
// instructions (markdown). A template resource also resolves skills added after the session started.
func (a *api) addResources(s *mcp.Server) {
	cat := a.o.Skills
	if cat == nil {
		return
	}
	read := func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		uri := req.Params.URI
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != skillScheme {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		id := u.Host + strings.TrimPrefix(u.Path, "/")
		sk, err := cat.GetSkill(id)
		if err != nil {
			if maestro.ErrorCode(err) == maestro.CodeNotFound || maestro.ErrorCode(err) == maestro.CodeValidation {
				return nil, mcp.ResourceNotFoundError(uri)
			}
			return nil, err
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/markdown", Text: sk.Instructions}}}, nil
	}
	for _, sk := range cat.ListSkills() {
		s.AddResource(&mcp.Resource{URI: skillScheme + "://" + sk.ID, Name: sk.ID, Title: sk.Name,
			Description: sk.Description, MIMEType: "text/markdown"}, read)
	}
	s.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: skillScheme + "://{id}", Name: "skill",
		Description: "A skill's instructions, by skill id.", MIMEType: "text/markdown"}, read)
}
