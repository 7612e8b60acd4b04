package v2

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// FlagList is the body of GET /api/v2/flags: every flag (there are few; the list is not paginated).
type FlagList struct {
	Items []Flag `json:"items" doc:"Every flag, in a fixed order."`
}

type flagListOutput struct{ Body FlagList }

// FlagKeyPath is the {key} path parameter.
type FlagKeyPath struct {
	Key string `path:"key" maxLength:"64" doc:"The flag key, e.g. api-v2."`
}

type flagGetInput struct {
	FlagKeyPath
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag of the flag; 304 when it still matches."`
}

// FlagPutBody is the body of PUT /api/v2/flags/{key}.
type FlagPutBody struct {
	Enabled bool `json:"enabled" doc:"The value to set."`
}

type flagPutInput struct {
	FlagKeyPath
	IfMatch string `header:"If-Match" doc:"Change only if the flag still has this ETag (else 412)."`
	Body    FlagPutBody
}

type flagDeleteInput struct {
	FlagKeyPath
	IfMatch string `header:"If-Match" doc:"Change only if the flag still has this ETag (else 412)."`
}

type flagOutput struct {
	Status int
	ETag   string `header:"ETag" doc:"The flag's version, for If-Match and If-None-Match."`
	Body   Flag
}

// apiOrigin describes a flag change made through this API, for its updatedBy and audit row.
func apiOrigin(ctx context.Context, method string) flags.Origin {
	return flags.Origin{
		Actor: "api:" + maestro.ActorFrom(ctx), Method: method, Route: Prefix + "/flags/{key}",
		Status: http.StatusOK, RequestID: maestro.RequestIDFrom(ctx),
	}
}

func flagResult(s flags.State) *flagOutput {
	return &flagOutput{Status: http.StatusOK, ETag: s.VersionTag(), Body: flagDTO(s)}
}

// flagsV2 holds what the Flags operations need; each method serves one of them and is named
// after its operation ID.
type flagsV2 struct {
	fl *flags.Flags
}

// admin returns the flags, or 501 on a server built without them.
func (h flagsV2) admin() (*flags.Flags, error) {
	if h.fl == nil {
		return nil, maestro.Errorf(maestro.CodeNotImplemented, "feature flags are not available on this server")
	}
	return h.fl, nil
}

func registerFlags(api huma.API, d Deps) {
	const tag = "Flags"

	h := flagsV2{fl: d.Flags}
	huma.Register(api, ungated(op("list-flags", http.MethodGet, Prefix+"/flags", tag, "List feature flags",
		"Every feature flag with its value, default and source. Never gated: ops can always see and change flags.\n\n"+
			"Flags can also be changed with `maestro-server flags set|unset|import` on the server's machine; "+
			"such changes take effect within a second.")),
		h.listFlags)

	huma.Register(api, ungated(op("get-flag", http.MethodGet, Prefix+"/flags/{key}", tag, "Get a feature flag",
		"One flag with its value, default and source, and its ETag (If-None-Match answers 304 while it is unchanged).",
		http.StatusNotModified)),
		h.getFlag)

	huma.Register(api, ungated(op("set-flag", http.MethodPut, Prefix+"/flags/{key}", tag, "Set a feature flag",
		"Sets the flag on or off. It takes effect for the next request; the change is broadcast as "+
			"`flag:updated` and recorded in the audit log (who, old and new value), all in one transaction.",
		http.StatusPreconditionFailed)),
		h.setFlag)

	huma.Register(api, ungated(op("unset-flag", http.MethodDelete, Prefix+"/flags/{key}", tag, "Unset a feature flag",
		"Returns the flag to its coded default and answers the flag as it now is. Broadcast as `flag:updated` "+
			"and audited like a set.",
		http.StatusPreconditionFailed)),
		h.unsetFlag)
}

func (h flagsV2) listFlags(ctx context.Context, _ *struct{}) (*flagListOutput, error) {
	f, err := h.admin()
	if err != nil {
		return nil, err
	}
	states, err := f.List(ctx)
	if err != nil {
		return nil, err
	}
	return &flagListOutput{Body: FlagList{Items: mapItems(states, flagDTO)}}, nil
}

func (h flagsV2) getFlag(ctx context.Context, in *flagGetInput) (*flagOutput, error) {
	f, err := h.admin()
	if err != nil {
		return nil, err
	}
	s, err := f.Get(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	out := flagResult(s)
	if notModified(in.IfNoneMatch, out.ETag) {
		return &flagOutput{Status: http.StatusNotModified, ETag: out.ETag}, nil
	}
	return out, nil
}

func (h flagsV2) setFlag(ctx context.Context, in *flagPutInput) (*flagOutput, error) {
	f, err := h.admin()
	if err != nil {
		return nil, err
	}
	s, err := f.Set(ctx, in.Key, in.Body.Enabled, apiOrigin(ctx, http.MethodPut), ifMatch(in.IfMatch, "Flag '"+in.Key+"'"))
	if err != nil {
		return nil, err
	}
	return flagResult(s), nil
}

func (h flagsV2) unsetFlag(ctx context.Context, in *flagDeleteInput) (*flagOutput, error) {
	f, err := h.admin()
	if err != nil {
		return nil, err
	}
	s, err := f.Unset(ctx, in.Key, apiOrigin(ctx, http.MethodDelete), ifMatch(in.IfMatch, "Flag '"+in.Key+"'"))
	if err != nil {
		return nil, err
	}
	return flagResult(s), nil
}
