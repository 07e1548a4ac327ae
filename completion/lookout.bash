# bash completion for lookout(1)                           -*- shell-script -*-
#
# The commands, their actions, options and operands come from lookout itself:
# `lookout complete` (a command hidden from --help, cmd/cmd_complete.c) reads
# them from the command table's usages, so a new command or option completes
# without a change here.  It also lists the runbook names and the incident
# and run ids of the timeline that the --db and --config typed on the line
# point at.  What is here is how the line is read, and how each placeholder
# of a usage (ID, RUN_ID, RUNBOOK, FILE, md|json|csv) is completed.
#
# Plain bash: it needs nothing of the bash-completion package.

# _lookout_ask WHAT...: the words `lookout complete WHAT...` prints, asking
# the lookout being typed (a build tree's ./build/lookout has its own
# commands) with the global options typed so far.
_lookout_ask()
{
	"$_lookout_bin" "${_lookout_globals[@]}" complete "$@" 2>/dev/null
}

# _lookout_values PLACEHOLDER CUR: COMPREPLY for a value of that placeholder.
_lookout_values()
{
	local words

	case $1 in
	ID) words=$(_lookout_ask incidents) ;;
	RUN_ID) words=$(_lookout_ask runs) ;;
	RUNBOOK) words=$(_lookout_ask runbooks) ;;
	FILE)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$2")
		return ;;
	P1..P4) words="P1 P2 P3 P4" ;;
	*'|'*) words=${1//|/ } ;;
	*) return ;;	# NAME, TEXT, TITLE: nothing to offer
	esac
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$2")
}

_lookout()
{
	local _lookout_bin=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local -a _lookout_globals=() words=() opts=() args=()
	local last=$COMP_CWORD valopt= cmd= actions= action= npos=0 takes= w i

	COMPREPLY=()
	# bash splits "--format=js" at the "=" (COMP_WORDBREAKS).
	if [[ $cur == = ]]; then
		valopt=${COMP_WORDS[COMP_CWORD - 1]} cur= last=$((COMP_CWORD - 1))
	elif ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[COMP_CWORD - 1]} == = ]]; then
		valopt=${COMP_WORDS[COMP_CWORD - 2]} last=$((COMP_CWORD - 2))
	fi
	for ((i = 1; i < last; i++)); do
		w=${COMP_WORDS[i]}
		if [[ ${COMP_WORDS[i + 1]} == = ]] && ((i + 2 < last)); then
			w+="=${COMP_WORDS[i + 2]}"
			((i += 2))
		fi
		words+=("$w")
	done

	# The command, its action, how many operands are typed; the global
	# options wherever they are.
	for ((i = 0; i < ${#words[@]}; i++)); do
		w=${words[i]}
		case $w in
		--db | --config)
			((i + 1 < ${#words[@]})) &&
			    _lookout_globals+=("$w" "${words[i + 1]}")
			((i++))
			continue ;;
		--db=* | --config=*)
			_lookout_globals+=("$w")
			continue ;;
		-*)
			[[ $takes == *" $w "* ]] && ((i++))
			continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=$w
			mapfile -t opts < <(_lookout_ask options "$cmd")
			takes=" "
			for w in "${opts[@]}"; do
				[[ $w == *" "* ]] && takes+="${w%% *} "
			done
			actions=$(_lookout_ask actions "$cmd")
		elif [[ -n $actions && -z $action ]]; then
			action=$w
		else
			((npos++))
		fi
	done

	# A value after its option: "--format <TAB>", "--format=<TAB>".
	if [[ -z $valopt && ${#words[@]} -gt 0 ]]; then
		w=${words[-1]}
		[[ $w == --db || $w == --config || $takes == *" $w "* ]] &&
		    valopt=$w
	fi
	if [[ -n $valopt ]]; then
		case $valopt in
		--db | --config) _lookout_values FILE "$cur" ;;
		*)
			for w in "${opts[@]}"; do
				[[ ${w%% *} == "$valopt" ]] &&
				    _lookout_values "${w#* }" "$cur"
			done ;;
		esac
		return
	fi

	if [[ $cur == -* ]]; then
		if [[ -z $cmd ]]; then
			words=(--db --config --help --version)
		else
			[[ -n $action ]] &&
			    mapfile -t opts < <(_lookout_ask options "$cmd" "$action")
			words=("${opts[@]%% *}" --help)
		fi
		mapfile -t COMPREPLY < <(compgen -W "${words[*]}" -- "$cur")
	elif [[ -z $cmd ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_lookout_ask commands)" \
		    -- "$cur")
	elif [[ -n $actions && -z $action ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$actions" -- "$cur")
	else
		mapfile -t args < <(_lookout_ask args "$cmd" ${action:+"$action"})
		w=${args[npos]}
		# The last operand may repeat: "check [FILE ...]".
		if [[ -z $w && ${#args[@]} -gt 0 && ${args[-1]} == *" ..." ]]; then
			w=${args[-1]}
		fi
		_lookout_values "${w% ...}" "$cur"
	fi
}

complete -F _lookout lookout
