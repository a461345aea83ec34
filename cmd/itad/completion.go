package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts ask itad itself for the words that may follow
// (urfave/cli's hidden --generate-bash-completion flag), so they never go
// out of date; fish gets a static script generated from the command tree.
const bashCompletion = `# bash completion for itad: source it, or save it as
# /etc/bash_completion.d/itad (or ~/.local/share/bash-completion/completions/itad)
_itad_complete() {
  local cur words
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}
complete -o bashdefault -o default -F _itad_complete itad
`

const zshCompletion = `#compdef itad
# zsh completion for itad: save it as _itad in a folder of $fpath
# (e.g. ~/.zsh/completions, with fpath+=~/.zsh/completions before compinit)
_itad() {
  local -a opts
  local cur
  cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _itad itad
`

var completionCommand = &cli.Command{
	Name:      "completion",
	Usage:     "print a shell completion script (bash, zsh or fish)",
	ArgsUsage: "bash|zsh|fish",
	Description: "Prints a script that completes itad's commands and flags; nothing is installed. For example:\n\n" +
		"  itad completion bash > ~/.local/share/bash-completion/completions/itad\n" +
		"  itad completion zsh > ~/.zsh/completions/_itad     (a folder in $fpath)\n" +
		"  itad completion fish > ~/.config/fish/completions/itad.fish\n\n" +
		"bash and zsh ask itad for the words that may follow, so they follow upgrades; regenerate the\n" +
		"fish script after one.",
	Action: func(c *cli.Context) error {
		shell, err := oneArg(c, "shell (bash, zsh or fish)")
		if err != nil {
			return err
		}
		var script string
		switch shell {
		case "bash":
			script = bashCompletion
		case "zsh":
			script = zshCompletion
		case "fish":
			if script, err = c.App.ToFishCompletion(); err != nil {
				return fmt.Errorf("fish completion: %w", err)
			}
		default:
			return usageErr("completion: unknown shell %q (bash, zsh or fish)", shell)
		}
		_, err = fmt.Fprint(c.App.Writer, script)
		return err
	},
}

var manCommand = &cli.Command{
	Name:      "man",
	Usage:     "print the manual page (troff), generated from the commands",
	ArgsUsage: " ",
	Description: "Prints itad(1) in man(7) format, generated from the command tree, so it always matches the\n" +
		"commands and flags of this version. Read it with 'itad man | man -l -', or install it by hand:\n\n" +
		"  itad man > /usr/local/share/man/man1/itad.1 && mandb",
	Action: func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr("man takes no arguments (got %q)", c.Args().First())
		}
		page, err := c.App.ToManWithSection(1)
		if err != nil {
			return fmt.Errorf("man page: %w", err)
		}
		if !strings.HasSuffix(page, "\n") {
			page += "\n"
		}
		_, err = fmt.Fprint(c.App.Writer, page)
		return err
	},
}
