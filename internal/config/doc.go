// Package config loads the server's one Config: command-line flags over environment variables over a
// `.env` file in the working directory over defaults. Every setting is declared once, in settings.go,
// with its environment name, flag, default and help text; `serve --help` prints that table.
//
// It validates everything up front and reports every problem at once, so an operator fixes a bad
// configuration in one go. It never logs secret values.
package config
