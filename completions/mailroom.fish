# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mailroom_global_optspecs
    string join \n config= ledger= v/verbose q/quiet strict h/help V/version
end

function __fish_mailroom_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mailroom_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mailroom_using_subcommand
    set -l cmd (__fish_mailroom_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mailroom -n "__fish_mailroom_needs_command" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_needs_command" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_needs_command" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_needs_command" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_needs_command" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_needs_command" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "fetch" -d 'Fetch new messages, store them once in the ledger, and print one record per new message'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "filter" -d 'Give each record a verdict (pass, spam, blank, test, autoreply, bounce, bulk, duplicate) with reasons. Passing records go to stdout; the rest are kept in the ledger, where they can be rescued'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "classify" -d 'Add a `triage` object to each record: category, priority P1-P4, sentiment, language, confidence, escalation with reasons, and extracted entities (order ids, tracking numbers, e-mail addresses, phone numbers).'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "draft" -d 'Add a `draft` to each classified record: an English reply, the missing-information checklist, a risk level, and the knowledge sources it is grounded in.'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "notify" -d 'Post one message per record to the configured webhooks (Slack, WeCom, Feishu/Lark, DingTalk, generic JSON) with a link to its review page. Records pass through unchanged'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "review" -d 'Review pending drafts: interactive on a terminal, scriptable sub-actions, or a web page (`review serve`)'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "send" -d 'Send approved drafts over SMTP with correct threading, exactly once'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "digest" -d 'Counts and samples over a window: new, pending, sent, handled, rejected, failed, filter verdicts, categories, response times, high-urgency samples'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "heartbeat" -d 'Check the ledger for silence and failures; exit 1 while alerting'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "export" -d 'Print messages from the ledger as records, with their current filter, triage and draft results, for reclassification and jq'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "run" -d 'fetch → filter → classify → draft → notify in one process, from config (for one timer)'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "cases" -d 'List and show service cases'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "init" -d 'Write a commented starter config (to --config, MAILROOM_CONFIG or the XDG default) and create the ledger'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "generate"
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l mbox -d 'Import an mbox file (mboxo or mboxrd; `-` for stdin); repeatable' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l maildir -d 'Import a Maildir folder (its cur/ and new/); repeatable' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l eml -d 'Import single RFC 822 message files (`-` for stdin)' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l account -d 'Only these configured accounts [default: all]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l mailbox -d 'Only these mailboxes [default: the account\'s `mailboxes`]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l since -d 'Backfill: also fetch messages since DATE (YYYY-MM-DD) that are older than the sync state' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l max-parse-bytes -d 'Parse at most this many bytes of a message; larger ones are stored whole and flagged `huge`' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l idle -d 'Stay connected (IMAP IDLE) and emit records as mail arrives'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l rejected -d 'Also write the rejected records to FILE' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l all -d 'Emit every record with its verdict, not only the passing ones'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -s j -l jobs -d 'Concurrent model calls with `--backend model` [default: `[model] jobs`, 4]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l backend -d 'Which backend picks the category: `embedded` (no network) or `model` (the `[model]` endpoint) [default: `[classify] backend`]' -r -f -a "embedded\t''
model\t''"
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l labels -d 'With --train: a JSONL file of labelled examples, one per line: {"subject": "...", "text": "...", "category": "refund"}' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l output -d 'With --train: where to write the model [default: `[classify] model_path`, else classify-model.bin next to the ledger, which classify then uses]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l force -d 'Ask the model again even when the cache has an answer'
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l train -d 'Retrain the embedded model from the ledger\'s labels (review recategorizations) and `--labels FILE`, and save it (see `--output`); reads no records'
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand classify" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l backend -d 'Where the answer comes from: knowledge excerpts in templates (no network), or the [model] endpoint (answers only from the knowledge passages) [default: [draft] backend]' -r -f -a "template\t''
model\t''"
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l knowledge -d 'Folder of Markdown policies and FAQ to ground drafts in, e.g. `--knowledge examples/knowledge` [default: [draft] knowledge_dir]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l templates -d 'Folder of `<category>.txt.j2` templates replacing the built-in ones [default: [draft] templates_dir]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l no-lookup -d 'Do not run the order-lookup hook (drafts then carry no order facts)'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l dry-run -d 'Print the exact messages instead of sending them'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l since -d 'Window ending now, e.g. 24h, 7d' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l max-idle -d 'Alert when no triage happened for this long while mail arrives, e.g. 2h' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l since -d 'Messages dated on or after DATE (YYYY-MM-DD or RFC 3339)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l until -d 'Messages dated before DATE' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l state -d 'Messages whose latest draft is in this state (pending, approved, rejected, handled, sending, sent, failed)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l category -d 'Messages currently in this category' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l verdict -d 'Messages with this current filter verdict' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l account -d 'Messages of this account ("files" for imports)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l id -d 'Only these message ids; repeatable' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l limit -d 'At most N messages' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l idle -d 'Stay connected and process mail as it arrives (IMAP IDLE)'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -l json -d 'Print JSON instead of a table'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l force -d 'Overwrite an existing config file'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -f -a "man" -d 'One man page per command (mailroom.1, mailroom-fetch.1, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -f -a "completions" -d 'bash, zsh and fish completions'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -f -a "classify-model" -d 'Train the embedded classifier (intents train split + seed set); prints held-out scores'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -f -a "classify-eval" -d 'Score the classifier on the intents held-out split (per-category precision, recall, F1)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions classify-model classify-eval help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -l dir -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from man" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -l dir -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from completions" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -l intents -d 'The intents corpus folder (shared/data/intents)' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -l out -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-model" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -l intents -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -l model -d 'A model file instead of the embedded one' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from classify-eval" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "man" -d 'One man page per command (mailroom.1, mailroom-fetch.1, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "completions" -d 'bash, zsh and fish completions'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "classify-model" -d 'Train the embedded classifier (intents train split + seed set); prints held-out scores'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "classify-eval" -d 'Score the classifier on the intents held-out split (per-category precision, recall, F1)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "fetch" -d 'Fetch new messages, store them once in the ledger, and print one record per new message'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "filter" -d 'Give each record a verdict (pass, spam, blank, test, autoreply, bounce, bulk, duplicate) with reasons. Passing records go to stdout; the rest are kept in the ledger, where they can be rescued'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "classify" -d 'Add a `triage` object to each record: category, priority P1-P4, sentiment, language, confidence, escalation with reasons, and extracted entities (order ids, tracking numbers, e-mail addresses, phone numbers).'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "draft" -d 'Add a `draft` to each classified record: an English reply, the missing-information checklist, a risk level, and the knowledge sources it is grounded in.'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "notify" -d 'Post one message per record to the configured webhooks (Slack, WeCom, Feishu/Lark, DingTalk, generic JSON) with a link to its review page. Records pass through unchanged'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "review" -d 'Review pending drafts: interactive on a terminal, scriptable sub-actions, or a web page (`review serve`)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "send" -d 'Send approved drafts over SMTP with correct threading, exactly once'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "digest" -d 'Counts and samples over a window: new, pending, sent, handled, rejected, failed, filter verdicts, categories, response times, high-urgency samples'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "heartbeat" -d 'Check the ledger for silence and failures; exit 1 while alerting'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "export" -d 'Print messages from the ledger as records, with their current filter, triage and draft results, for reclassification and jq'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "run" -d 'fetch → filter → classify → draft → notify in one process, from config (for one timer)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "cases" -d 'List and show service cases'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "init" -d 'Write a commented starter config (to --config, MAILROOM_CONFIG or the XDG default) and create the ledger'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "generate"
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "man" -d 'One man page per command (mailroom.1, mailroom-fetch.1, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "completions" -d 'bash, zsh and fish completions'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "classify-model" -d 'Train the embedded classifier (intents train split + seed set); prints held-out scores'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "classify-eval" -d 'Score the classifier on the intents held-out split (per-category precision, recall, F1)'
