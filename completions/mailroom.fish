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
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "fetch" -d 'New messages from IMAP or from mbox / Maildir / .eml files, stored once'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "filter" -d 'Drop spam, blank, test, auto-reply, bounce and bulk mail; pass customers'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "classify" -d 'Category, priority, sentiment, language and escalation for each record'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "draft" -d 'English reply drafts with a missing-information checklist and a risk level'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "notify" -d 'Post each record to the team\'s group chat with a review link'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "review" -d 'Approve, edit, reject or mark drafts handled (terminal, scripts or web page)'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "send" -d 'Send approved drafts over SMTP, threaded, exactly once'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "digest" -d 'The manager\'s summary of a day or any window'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "heartbeat" -d 'Alert when the chain goes quiet or keeps failing; exit 1 while alerting'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "export" -d 'Messages from the ledger as records, for reclassification and jq'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "run" -d 'fetch → filter → classify → draft → notify in one process (for one timer)'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "cases" -d 'Service cases: threads with an owner, a waiting state and a next step'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "init" -d 'Write a commented starter config and create the ledger'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "ledger" -d 'Look after the ledger file: check it after a crash, a power cut or a restored backup'
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "generate"
complete -c mailroom -n "__fish_mailroom_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l mbox -d 'Import an mbox file (mboxo or mboxrd; `-` for stdin); repeatable' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l maildir -d 'Import a Maildir folder (its cur/ and new/); repeatable' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l eml -d 'Import single RFC 822 message files (`-` for stdin)' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l account -d 'Only these configured accounts [default: all]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l mailbox -d 'Only these mailboxes [default: the account\'s `mailboxes`]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l since -d 'Backfill: also fetch messages since DATE (YYYY-MM-DD) that are older than the sync state. On a mailbox\'s first fetch, start at DATE instead of fetching the whole mailbox' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l idle-renew -d 'With --idle: re-issue IDLE after SECS without news. Servers log idle clients out after 30 minutes; lower it where a NAT router or firewall drops quiet connections sooner' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l max-parse-bytes -d 'Parse at most this many bytes of a message; larger ones are stored whole and flagged `huge`' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l idle -d 'Stay connected (IMAP IDLE) and emit each record as mail arrives, flushed at once; reconnects with backoff after a drop; SIGTERM or Ctrl-C ends it cleanly (exit 0)'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l mark-seen -d 'Mark fetched messages as read on the server (\\Seen); by default nothing is changed there'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l rejected -d 'Also write the rejected records to FILE (JSONL, with their verdicts)' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l rescue -d 'Put a wrongly dropped message back into the pipeline: it is printed with verdict `pass` and recorded as "not spam" for training; repeatable. Example: --rescue m3f2a9c0d1e2b3a4c5d6e7f8' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l confirm -d 'Confirm the current verdict of a message (spam or pass) as a training label; repeatable' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l mark-spam -d 'Mark a message that got through as spam (a training label); repeatable' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l all -d 'Emit every record with its verdict, not only the passing ones'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l train -d 'Retrain the spam model from the embedded base and the labels in the ledger (rescues, confirmations, spam marks) and write it to `[filter] model_path` [default: spam-model.bin next to the ledger, $XDG_DATA_HOME/mailroom/], where filter then loads it'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand filter" -s h -l help -d 'Print help (see more with \'--help\')'
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
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s j -l jobs -d 'Messages drafted at once, so that order lookups and model calls overlap; the output keeps the input order [default: `[model] jobs`, else 4]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l no-lookup -d 'Do not run the order-lookup hook (drafts then carry no order facts)'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand draft" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l webhook -d 'Only the webhook named NAME (repeatable)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l force -d 'Post again to webhooks that already have this message'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l batch -d 'One message per webhook listing all records of this run, instead of one per record (records still pass through as they are read; the post happens at the end)'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand notify" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "list" -d 'List drafts waiting for review, most urgent first (priority, then age)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "show" -d 'Show one draft: the message, the draft, its checklist, reasons and history'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "approve" -d 'Approve drafts; they are sent at once or queued, per policy.approve_sends'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "edit" -d 'Replace a draft\'s text, from a file, stdin (-) or $EDITOR'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "reject" -d 'Reject drafts (nobody sends them); a reason is required'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "handle" -d 'Mark messages handled (answered some other way)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "recategorize" -d 'Give a message another category (recorded as a training label for classify)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "assign" -d 'Give a service case an owner (an agent\'s name; "" removes the owner)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "link" -d 'Print signed links to the review page (for a message, or the listing)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "serve" -d 'Serve the review web page'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and not __fish_seen_subcommand_from list show approve edit reject handle recategorize assign link serve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -l state -d 'Drafts in this state (repeatable) [default: pending]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -l all -d 'Drafts in every state'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -l json -d 'JSON lines instead of a table (the default when stdout is not a terminal)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -l json -d 'The full detail as one JSON object (the default when stdout is not a terminal)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -l queue -d 'Only approve: leave the draft for the send timer even when policy.approve_sends = "now"'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from approve" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -l body-file -d 'Take the new reply text from FILE (- for stdin) instead of opening $EDITOR' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -l subject -d 'A new subject line' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from edit" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -l reason -d 'Why (required: it is how the drafts get better)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from reject" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -l note -d 'How it was handled, e.g. "answered by phone"' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from handle" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from recategorize" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from assign" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -l ttl -d 'Hours the link stays valid [default: review.link_ttl_hours]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -l listing -d 'The link to the listing of all pending drafts instead'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from link" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -l listen -d 'Address to listen on [default: review.listen, 127.0.0.1:8025]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -l as -d 'Name recorded as the reviewer [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from serve" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "list" -d 'List drafts waiting for review, most urgent first (priority, then age)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one draft: the message, the draft, its checklist, reasons and history'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve drafts; they are sent at once or queued, per policy.approve_sends'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Replace a draft\'s text, from a file, stdin (-) or $EDITOR'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "reject" -d 'Reject drafts (nobody sends them); a reason is required'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "handle" -d 'Mark messages handled (answered some other way)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "recategorize" -d 'Give a message another category (recorded as a training label for classify)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "assign" -d 'Give a service case an owner (an agent\'s name; "" removes the owner)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "link" -d 'Print signed links to the review page (for a message, or the listing)'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "serve" -d 'Serve the review web page'
complete -c mailroom -n "__fish_mailroom_using_subcommand review; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l max -d 'Send at most N drafts this run, e.g. `--max 10`' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l rate -d 'SMTP transactions per minute, e.g. `--rate 10`; 0 = no limit [default: policy.rate_per_minute]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l draft -d 'Only this draft (repeatable); sent now even if a retry is scheduled later' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l account -d 'Send from this account when a message\'s own account has no SMTP (file imports), e.g. `--account support`' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l dry-run -d 'Print each message (RFC 822, the `raw` key of each line; as plain text on a terminal) instead of sending it; changes nothing in the ledger'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l auto -d 'Also send pending drafts that the auto-send policy allows (low risk, category in policy.categories, confidence ≥ policy.min_confidence, within policy.daily_cap), as actor `policy`; stops while policy.auto_send = false or policy.pause_file exists'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l shadow -d 'With --auto: send nothing and change no draft; record what the auto-send policy would do with each pending draft (a `policy.shadow` event: would_send or would_hold, and why), once per draft. Works while policy.auto_send = false (try the policy before trusting it); the rules, policy.daily_cap and policy.pause_file still apply. When a person later approves, edits, rejects or handles a shadowed draft, their agreement with the verdict is recorded (`policy.agreement`) and shown per category by `mailroom digest`. Example: `mailroom send --auto --shadow && mailroom digest --since 7d`'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand send" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l since -d 'Start of the window: a duration back from --until (24h, 7d, 90m) or a local date (YYYY-MM-DD) or RFC 3339 time [default: 24h]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l until -d 'End of the window: a local date (YYYY-MM-DD, meaning its midnight) or RFC 3339 time [default: now]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l date -d 'One calendar day in the team\'s time zone, compared with the day before, e.g. 2026-11-20' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l format -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t''
json\t''
markdown\t''
html\t''"
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l deliver -d 'Where the digest goes: stdout, the [notify] webhooks (a short text), or e-mail (HTML with a Markdown text part) through an account\'s SMTP settings' -r -f -a "stdout\t''
notify\t''
email\t''"
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l to -d 'Recipient of --deliver email; repeatable' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l account -d 'Account whose SMTP settings send --deliver email [default: the only account with smtp]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l samples -d 'How many high-urgency messages (P1, P2, escalated) to list' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l json -d 'The same as --format json'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand digest" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l max-idle -d 'Alert when no triage happened for this long while mail waits, e.g. 2h, 90m [default: [heartbeat] max_idle, 2h]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l json -d 'Print the status object as JSON on stdout (for monitoring systems)'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand heartbeat" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l since -d 'Messages dated on or after DATE (YYYY-MM-DD or RFC 3339)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l until -d 'Messages dated before DATE' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l state -d 'Messages whose latest draft is in this state (pending, approved, rejected, handled, sending, sent, failed)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l category -d 'Messages currently in this category' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l verdict -d 'Messages with this current filter verdict' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l account -d 'Messages of this account ("files" for imports)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l id -d 'Only these message ids; repeatable' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l case -d 'The messages of one service case, in the order they arrived (customer mail, replies read back from Sent, replies written from a mail client); takes a case id, or a message or draft id of the case' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l limit -d 'At most N messages' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand export" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l mbox -d 'Read an mbox file instead of IMAP (repeatable)' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l maildir -d 'Read a Maildir folder instead of IMAP (repeatable)' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l eml -d 'Read .eml files instead of IMAP' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l account -d 'Only these configured accounts [default: all with IMAP]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s j -l jobs -d 'Messages drafted at once, so that order lookups and model calls overlap; the output keeps the fetch order [default: `[model] jobs`, else 4]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l idle -d 'Stay connected and process mail as it arrives (IMAP IDLE); stops cleanly on SIGTERM'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l no-notify -d 'Do not post to the webhooks (also the default when none are configured)'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand run" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l state -d 'Cases in this state (repeatable): new, waiting_internal, waiting_customer, waiting_partner, resolved, cancelled [default: the open ones]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l owner -d 'Only cases owned by NAME' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l all -d 'Cases in every state, closed ones included'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l over-sla -d 'Only cases waiting on us longer than their SLA'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l json -d 'JSON lines instead of a table (the default when stdout is not a terminal)'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -f -a "list" -d 'List cases (the default): open ones, most recently active first'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -f -a "show" -d 'Show one case: customer, state, owner, what it waits for, and its full story in order'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -f -a "sweep" -d 'Apply the waiting timeout: follow up on (or close) cases the customer left waiting longer than [cases] waiting_customer_days; for a timer'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -f -a "set" -d 'Set a case\'s state by hand (waiting on a partner, resolved, cancelled, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and not __fish_seen_subcommand_from list show sweep set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l state -d 'Cases in this state (repeatable): new, waiting_internal, waiting_customer, waiting_partner, resolved, cancelled [default: the open ones]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l owner -d 'Only cases owned by NAME' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l all -d 'Cases in every state, closed ones included'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l over-sla -d 'Only cases waiting on us longer than their SLA'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l json -d 'JSON lines instead of a table (the default when stdout is not a terminal)'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -l json -d 'The case as one JSON object (the default when stdout is not a terminal)'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -l dry-run -d 'Say what would happen, change nothing'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from sweep" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -l waiting-for -d 'What the case waits for (repeatable), e.g. --waiting-for \'carrier claim\'' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -l next-step -d 'The next step, e.g. --next-step \'call the carrier on Monday\'' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -l note -d 'Why (kept in the case\'s story)' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -l as -d 'Name recorded for the change [default: $MAILROOM_USER or $USER]' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from help" -f -a "list" -d 'List cases (the default): open ones, most recently active first'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one case: customer, state, owner, what it waits for, and its full story in order'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from help" -f -a "sweep" -d 'Apply the waiting timeout: follow up on (or close) cases the customer left waiting longer than [cases] waiting_customer_days; for a timer'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a case\'s state by hand (waiting on a partner, resolved, cancelled, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand cases; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l force -d 'Overwrite an existing config file'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand init" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Check the ledger: SQLite\'s integrity and foreign-key checks plus mailroom\'s own promises (every message stored once with its raw source, every draft\'s history legal, every sent draft sent exactly once, no send left without its claim). Read-only apart from applying pending schema migrations.'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -l json -d 'Print the result as one JSON object on stdout'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check the ledger: SQLite\'s integrity and foreign-key checks plus mailroom\'s own promises (every message stored once with its raw source, every draft\'s history legal, every sent draft sent exactly once, no send left without its claim). Read-only apart from applying pending schema migrations.'
complete -c mailroom -n "__fish_mailroom_using_subcommand ledger; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -f -a "man" -d 'One man page per command (mailroom.1, mailroom-fetch.1, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -f -a "completions" -d 'bash, zsh and fish completions'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -f -a "spam-model" -d 'Train the embedded spam model on the training split of shared/data'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -f -a "filter-eval" -d 'Print the filter\'s figures on the held-out split of shared/data'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -f -a "classify-model" -d 'Train the embedded classifier (intents train split + seed set); prints held-out scores'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -f -a "classify-eval" -d 'Score the classifier on the intents held-out split (per-category precision, recall, F1)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and not __fish_seen_subcommand_from man completions spam-model filter-eval classify-model classify-eval help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
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
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -l data -d 'The shared development data folder (with spam-ham/ and intents/) [default: the first shared/data found here or above]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -l out -d 'Where to write the model' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from spam-model" -s V -l version -d 'Print version'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -l data -d 'The shared development data folder (with spam-ham/, intents/ and bounces/) [default: the first shared/data found here or above]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -l threshold -d 'Evaluate with this spam threshold instead of the default' -r
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -l ledger -d 'Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]' -r -F
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -l json -d 'Print the evaluation as JSON (with every wrongly judged file)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -l show-errors -d 'List the wrongly judged files'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -s v -l verbose -d 'More detail on stderr (-v debug, -vv trace); hides progress bars'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -s q -l quiet -d 'Only errors on stderr, no progress'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -l strict -d 'Stop at the first bad input line instead of reporting it and going on'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -s h -l help -d 'Print help'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from filter-eval" -s V -l version -d 'Print version'
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
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "spam-model" -d 'Train the embedded spam model on the training split of shared/data'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "filter-eval" -d 'Print the filter\'s figures on the held-out split of shared/data'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "classify-model" -d 'Train the embedded classifier (intents train split + seed set); prints held-out scores'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "classify-eval" -d 'Score the classifier on the intents held-out split (per-category precision, recall, F1)'
complete -c mailroom -n "__fish_mailroom_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "fetch" -d 'New messages from IMAP or from mbox / Maildir / .eml files, stored once'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "filter" -d 'Drop spam, blank, test, auto-reply, bounce and bulk mail; pass customers'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "classify" -d 'Category, priority, sentiment, language and escalation for each record'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "draft" -d 'English reply drafts with a missing-information checklist and a risk level'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "notify" -d 'Post each record to the team\'s group chat with a review link'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "review" -d 'Approve, edit, reject or mark drafts handled (terminal, scripts or web page)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "send" -d 'Send approved drafts over SMTP, threaded, exactly once'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "digest" -d 'The manager\'s summary of a day or any window'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "heartbeat" -d 'Alert when the chain goes quiet or keeps failing; exit 1 while alerting'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "export" -d 'Messages from the ledger as records, for reclassification and jq'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "run" -d 'fetch → filter → classify → draft → notify in one process (for one timer)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "cases" -d 'Service cases: threads with an owner, a waiting state and a next step'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "init" -d 'Write a commented starter config and create the ledger'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "ledger" -d 'Look after the ledger file: check it after a crash, a power cut or a restored backup'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "generate"
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and not __fish_seen_subcommand_from fetch filter classify draft notify review send digest heartbeat export run cases init ledger generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "list" -d 'List drafts waiting for review, most urgent first (priority, then age)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "show" -d 'Show one draft: the message, the draft, its checklist, reasons and history'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "approve" -d 'Approve drafts; they are sent at once or queued, per policy.approve_sends'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "edit" -d 'Replace a draft\'s text, from a file, stdin (-) or $EDITOR'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "reject" -d 'Reject drafts (nobody sends them); a reason is required'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "handle" -d 'Mark messages handled (answered some other way)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "recategorize" -d 'Give a message another category (recorded as a training label for classify)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "assign" -d 'Give a service case an owner (an agent\'s name; "" removes the owner)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "link" -d 'Print signed links to the review page (for a message, or the listing)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from review" -f -a "serve" -d 'Serve the review web page'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from cases" -f -a "list" -d 'List cases (the default): open ones, most recently active first'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from cases" -f -a "show" -d 'Show one case: customer, state, owner, what it waits for, and its full story in order'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from cases" -f -a "sweep" -d 'Apply the waiting timeout: follow up on (or close) cases the customer left waiting longer than [cases] waiting_customer_days; for a timer'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from cases" -f -a "set" -d 'Set a case\'s state by hand (waiting on a partner, resolved, cancelled, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from ledger" -f -a "check" -d 'Check the ledger: SQLite\'s integrity and foreign-key checks plus mailroom\'s own promises (every message stored once with its raw source, every draft\'s history legal, every sent draft sent exactly once, no send left without its claim). Read-only apart from applying pending schema migrations.'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "man" -d 'One man page per command (mailroom.1, mailroom-fetch.1, …)'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "completions" -d 'bash, zsh and fish completions'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "spam-model" -d 'Train the embedded spam model on the training split of shared/data'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "filter-eval" -d 'Print the filter\'s figures on the held-out split of shared/data'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "classify-model" -d 'Train the embedded classifier (intents train split + seed set); prints held-out scores'
complete -c mailroom -n "__fish_mailroom_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "classify-eval" -d 'Score the classifier on the intents held-out split (per-category precision, recall, F1)'
