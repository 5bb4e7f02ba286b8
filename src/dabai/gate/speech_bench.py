"""The held-out spoken-turn benchmark (issue 17, ``dabai bench speech --holdout``).

Entry requests as the gate decides them (an intent in ``GateConfig.entry_intents``), spoken by
voices and in phrasings never used to tune the grammar, its thresholds or the ASR:

* voices: eight blends of two Kokoro Chinese voices' style tables (``zf_xiaobei+zf_xiaoyi`` …),
  voices no tuning ever heard; the stock voices the grammar was tuned on are not among them;
* phrasings: a set of ``speech/data/bench.yaml``: ``holdout`` (written before the first issue-17 grammar
  changes, a visitor's and a courier's among them; a tuning set since its misses were read) or
  ``holdout_unseen`` (``--set unseen``: written before the recogniser was reworked to generalise, never
  used to tune it);
* conditions: clean, 10 dB white noise, 10 dB babble (five other sentences by stock voices, summed),
  speaking rate 0.9 and 1.1 (Kokoro's speed);
* false accepts: ``holdout.non_entry`` (requests to leave or for help, gate chatter) in every voice,
  clean and with 10 dB white noise, that come out as an entry request;
* the whole run's ASR real-time factor (wall time and CPU time per audio second);
* names: the greeting of the set's ten names, said once with the registered reading and once as a
  resident without one is (the name's own reading, :func:`dabai.speech.names.name_reading`), transcribed
  by a judge Whisper decoding on its own settings (no prompt, no hotwords, 30-s window, beam 5, no VAD;
  ``judge_model``: other weights, else the gate's) and compared with the registered reading as tonal
  pinyin (:mod:`dabai.gate.names`): syllable error rate.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass

import numpy as np

TARGETS = {"entry_recognised": 0.97, "false_accepts": 0, "asr_rtf": 0.3, "name_syllable_error": 0.03}
SNR_DB = 10.0
CONDITIONS = ("clean", "white10", "babble10", "speed0.9", "speed1.1")
UNSEEN_VOICES = ("zf_xiaobei+zf_xiaoyi", "zf_xiaoni+zf_xiaoxiao", "zf_xiaobei+zf_xiaoni", "zf_xiaoxiao+zf_xiaoyi",
                 "zm_yunjian+zm_yunxia", "zm_yunxi+zm_yunyang", "zm_yunjian+zm_yunyang", "zm_yunxi+zm_yunxia")
BABBLE_TALKERS = 5
SETS = {"holdout": "holdout", "unseen": "holdout_unseen", "fresh": "holdout_fresh", "s12": "holdout_s12",
        "s12b": "holdout_s12b", "s14": "holdout_s14", "s14b": "holdout_s14b",
        "s15": "holdout_s15", "s15b": "holdout_s15b",
        "s16": "holdout_s16", "s17": "holdout_s17",
        "s17b": "holdout_s17b", "s18": "holdout_s18",
        "s18b": "holdout_s18b", "s19": "holdout_s19", "s20": "holdout_s20", "s21": "holdout_s21",
        "s22": "holdout_s22", "s23": "holdout_s23", "s24": "holdout_s24",
        "s25": "holdout_s25", "s26": "holdout_s26", "s27": "holdout_s27",
        "s28": "holdout_s28", "s29": "holdout_s29"}  # --set name → bench.yaml key


@dataclass(frozen=True)
class HoldoutOptions:
    voices: tuple[str, ...] = UNSEEN_VOICES
    conditions: tuple[str, ...] = CONDITIONS
    phrasings: int = 0  # use the first N entry phrasings (0: all); a subset is reported as such
    non_entry: int = 0  # the first N non-entry sentences (0: all)
    names: bool = True  # also check the ten unseen names
    threads: int = 0  # ASR/TTS threads (0: their defaults)
    judge_model: str | None = None  # CTranslate2 Whisper folder that transcribes the greetings (None: the gate's)
    phrasing_set: str = "holdout"  # "holdout" (now a tuning set) or "unseen" (never tuned on)


def run_holdout(options: HoldoutOptions = HoldoutOptions(), log=print, partial=None) -> dict:
    """Run it; with ``partial`` (a path), the rows measured so far are written there after each voice."""
    from dabai.core.errors import ConfigError
    from dabai.gate.config import GateConfig
    from dabai.speech.asr import ASROptions, get_recognizer
    from dabai.speech.bench import bench_data
    from dabai.speech.intent import UNCLEAR, load_grammar
    from dabai.speech.tts import TTSOptions, synthesize

    bad = [c for c in options.conditions if c not in CONDITIONS]
    if bad:
        raise ConfigError(f"unknown condition(s) {bad}; known: {', '.join(CONDITIONS)}")
    if options.phrasing_set not in SETS:
        raise ConfigError(f"unknown phrasing set {options.phrasing_set!r}; known: {', '.join(SETS)}")
    data = bench_data()
    held = data[SETS[options.phrasing_set]]
    entry = held["entry"][: options.phrasings or None]
    non_entry = held["non_entry"][: options.non_entry or None]
    config = GateConfig()
    rec = get_recognizer(ASROptions(threads=options.threads))
    spec = load_grammar().spec  # the recognizer's (the default grammar): its prompt and hotwords shape the transcripts
    asr = {"prompt": spec.asr_prompt, "hotwords": spec.asr_hotwords}
    load_start = os.getloadavg()[0]
    clock = {"asr_wall": 0.0, "asr_cpu": 0.0, "audio": 0.0, "tts_wall": 0.0}

    def speak(text, voice, speed=1.0):
        t = time.perf_counter()
        audio = synthesize(text, voice=voice, rate=16000, options=TTSOptions(engine="kokoro", speed=speed,
                                                                            threads=options.threads))
        clock["tts_wall"] += time.perf_counter() - t
        return audio

    def hear(audio):
        cpu = time.process_time()
        t = rec.transcribe(audio)
        clock["asr_cpu"] += time.process_time() - cpu
        clock["asr_wall"] += t.asr_seconds
        clock["audio"] += t.duration_s
        return t

    hear(speak("你好。", options.voices[0]))  # load both models before timing
    clock.update(asr_wall=0.0, asr_cpu=0.0, audio=0.0, tts_wall=0.0)
    babble_bank = [speak(s, v) for s, v in zip(data["non_commands"][:BABBLE_TALKERS],
                                               ("zm_yunyang", "zf_xiaoxiao", "zm_yunxi", "zf_xiaoni", "zm_yunjian"))
                   ] if "babble10" in options.conditions else []

    def condition(audio, cond, text, voice, seed_key):
        if cond.startswith("speed"):
            return speak(text, voice, float(cond[5:]))
        seed = zlib.crc32(seed_key.encode())
        if cond == "white10":
            from dabai.audio.dsp import add_noise

            return add_noise(audio, SNR_DB, seed=seed, color="white")
        if cond == "babble10":
            from dabai.audio.dsp import mix_at_snr

            return mix_at_snr(audio, _babble(babble_bank, len(audio.samples), seed), SNR_DB)
        return audio

    def turn(clean, cond, text, voice, key):
        """One spoken turn; when the gate asks again, the visitor says it once more (the same sentence and
        condition, new noise; a speed condition's clip is the same again)."""
        t = hear(condition(clean, cond, text, voice, key))
        retry = hear(condition(clean, cond, text, voice, key + "/again")) if t.intent == UNCLEAR else None
        return _row({"voice": voice, "condition": cond, "sentence": text}, t, retry, config)

    rows, others, done = [], [], []
    for voice in options.voices:  # each voice whole (entry requests, then the others) before the next
        for i, text in enumerate(entry):
            clean = speak(text, voice)
            for cond in options.conditions:
                rows.append(turn(clean, cond, text, voice, f"{voice}/{i}/{cond}"))
            _dump(partial, {"entry": rows, "non_entry": others, "voices_done": done, "clock": clock, "asr": asr})
        for i, text in enumerate(non_entry):
            clean = speak(text, voice)
            for cond in ("clean", "white10"):
                others.append(turn(clean, cond, text, voice, f"{voice}/n{i}/{cond}"))
            _dump(partial, {"entry": rows, "non_entry": others, "voices_done": done, "clock": clock, "asr": asr})
        done.append(voice)
        mine, theirs = [r for r in rows if r["voice"] == voice], [r for r in others if r["voice"] == voice]
        log(f"{voice}: {sum(r['accepted'] for r in mine)}/{len(mine)} entry requests recognised "
            f"({sum(r['reask'] for r in mine)} asked again), {sum(r['accepted'] for r in theirs)} false accepts "
            f"of {len(theirs)} ({sum(r['reask'] for r in theirs)} asked again)")
        _dump(partial, {"entry": rows, "non_entry": others, "voices_done": done, "clock": clock, "asr": asr})
    names = _names(held["names"], config, options, log) if options.names and held.get("names") else None

    held_out = {"set": options.phrasing_set, "voices": list(options.voices), "phrasings": entry, "non_entry": non_entry,
                "subset": bool(options.phrasings or options.non_entry) or options.conditions != CONDITIONS}
    return _summarise(held_out, rows, others, clock, names, load_start, options.conditions, spec)


def _summarise(held_out: dict, rows: list[dict], others: list[dict], clock: dict, names: dict | None,
               load_start: float, conditions, spec) -> dict:
    voices = list(dict.fromkeys(r["voice"] for r in rows)) or held_out["voices"]
    result = {
        "held_out": held_out,
        # a request counts when the gate takes it, at once or after asking once more (a re-ask it then takes)
        "entry_recognised": _share(rows),
        "entry_clips": len(rows),
        "entry_first_try": _share(rows, "entry"),
        "entry_reasks": sum(r["reask"] for r in rows),
        "per_voice": {v: _share([r for r in rows if r["voice"] == v]) for v in voices},
        "per_condition": {c: _share([r for r in rows if r["condition"] == c]) for c in conditions},
        "per_phrasing": {s: _share([r for r in rows if r["sentence"] == s]) for s in held_out["phrasings"]},
        "false_accepts": sum(r["accepted"] for r in others),  # at once or on the second try
        "non_entry_clips": len(others),
        "non_entry_reasks": sum(r["reask"] for r in others),
        # the same transcripts decided as the gate did before the re-ask rule (the grammar's text intent)
        "before_reask_rule": {"entry_recognised": _share(rows, "old_entry"),
                              "false_accepts": sum(r["old_entry"] for r in others)},
        "asr_rtf": round(clock["asr_wall"] / clock["audio"], 4) if clock["audio"] else 0.0,
        "asr_cpu_rtf": round(clock["asr_cpu"] / clock["audio"], 4) if clock["audio"] else 0.0,
        "audio_seconds": round(clock["audio"], 1),
        "tts_seconds": round(clock["tts_wall"], 1),
        "asr": {"prompt": spec.asr_prompt, "hotwords": spec.asr_hotwords},  # what the transcripts depend on
        "names": names,
        "misses": [r for r in rows if not r["accepted"]],
        "false_accept_rows": [r for r in others if r["accepted"]],
        "reask_rows": [r for r in (*rows, *others) if r["reask"]],
        "details": {"entry": rows, "non_entry": others},
    }
    from dabai.bench.stats import machine_info

    result["machine"] = {**machine_info(), "load_avg_1m_start": round(load_start, 2),
                         "load_avg_1m_end": round(os.getloadavg()[0], 2)}
    result["machine"].pop("load_avg_1m", None)
    result["targets_met"] = bool(
        result["entry_recognised"] >= TARGETS["entry_recognised"] and result["false_accepts"] == 0
        and result["asr_rtf"] <= TARGETS["asr_rtf"]
        and (names is None or max(names["syllable_error_rate"], names["default_reading"]["syllable_error_rate"])
             <= TARGETS["name_syllable_error"]))
    return result


def rescore_holdout(saved: dict, grammar_path=None) -> dict:
    """Decide again, with the current grammar, on the transcripts of an earlier run (its ``--json`` or
    the ``.partial.json`` written per voice): the transcripts depend on the grammar only through its
    ASR prompt and hotwords, which must be unchanged (ConfigError otherwise)."""
    from dabai.core.errors import ConfigError
    from dabai.gate.config import GateConfig
    from dabai.speech.intent import load_grammar

    grammar = load_grammar(grammar_path)
    details = saved.get("details", saved)
    asr = saved.get("asr")
    if asr is not None and asr != {"prompt": grammar.spec.asr_prompt, "hotwords": grammar.spec.asr_hotwords}:
        raise ConfigError(f"the run was transcribed with ASR prompt/hotwords {asr}, the grammar now has "
                          f"{grammar.spec.asr_prompt!r}/{grammar.spec.asr_hotwords!r}: run the benchmark again")
    if "entry" not in details:
        raise ConfigError("not a held-out benchmark result (no 'entry' rows); give the --json or .partial.json "
                          "of 'dabai bench speech --holdout'")
    config = GateConfig()
    rows, others = [], []
    voices_done = saved.get("voices_done")  # a partial run: the voices heard in full
    for src, dst in ((details["entry"], rows), (details.get("non_entry", []), others)):
        for r in src:
            if voices_done is not None and r["voice"] not in voices_done:
                continue
            heard, intent = _redecide(r["heard"], r.get("unsure_probability"), grammar)
            row = {**r, "intent": intent, "heard_intent": heard}
            if r.get("retry_heard") is not None:
                row["retry_intent"] = _redecide(r["retry_heard"], r.get("retry_unsure_probability"), grammar)[1]
            dst.append(_decided(row, config))
    held_out = saved.get("held_out") or {
        "set": "?", "voices": list(dict.fromkeys(r["voice"] for r in rows)),
        "phrasings": list(dict.fromkeys(r["sentence"] for r in rows)),
        "non_entry": list(dict.fromkeys(r["sentence"] for r in others)), "subset": True}
    held_out = {**held_out, "rescored": True, "complete": voices_done is None}
    conditions = list(dict.fromkeys(r["condition"] for r in rows))
    clock = saved.get("clock") or {"asr_wall": 0.0, "asr_cpu": 0.0, "audio": 0.0, "tts_wall": 0.0}
    if "clock" not in saved:  # a finished run keeps its figures, not its clock
        clock = {"asr_wall": saved.get("asr_rtf", 0.0) * saved.get("audio_seconds", 0.0),
                 "asr_cpu": saved.get("asr_cpu_rtf", 0.0) * saved.get("audio_seconds", 0.0),
                 "audio": saved.get("audio_seconds", 0.0), "tts_wall": saved.get("tts_seconds", 0.0)}
    result = _summarise(held_out, rows, others, clock, saved.get("names"), 0.0, conditions, grammar.spec)
    result["machine"] = saved.get("machine", {})
    return result


def score_text(phrasing_set: str = "holdout", grammar_path=None) -> dict:
    """The set's sentences decided as text (no TTS, no ASR): what the recogniser does with a perfect
    transcript. The ``holdout`` set adds the tuning sentences (``intent_tuning``) as its own rows."""
    from dabai.core.errors import ConfigError
    from dabai.gate.config import GateConfig
    from dabai.gate.decision import is_entry_request
    from dabai.speech.bench import bench_data
    from dabai.speech.intent import load_grammar, recognize_intent

    if phrasing_set not in SETS:
        raise ConfigError(f"unknown phrasing set {phrasing_set!r}; known: {', '.join(SETS)}")
    data, grammar, config = bench_data(), load_grammar(grammar_path), GateConfig()
    groups = {phrasing_set: data[SETS[phrasing_set]]}
    if phrasing_set == "holdout":
        groups["intent_tuning"] = data["intent_tuning"]
    out = {}
    for name, group in groups.items():
        rows = {kind: [{"sentence": t, "intent": (m := recognize_intent(t, grammar)).intent,
                        "entry": is_entry_request(m.intent, config)} for t in group[kind]]
                for kind in ("entry", "non_entry")}
        out[name] = {"entry_recognised": sum(r["entry"] for r in rows["entry"]), "entry": len(rows["entry"]),
                     "false_accepts": sum(r["entry"] for r in rows["non_entry"]), "non_entry": len(rows["non_entry"]),
                     "misses": [r for r in rows["entry"] if not r["entry"]],
                     "false_accept_rows": [r for r in rows["non_entry"] if r["entry"]]}
    return out


def format_text_scores(scores: dict) -> str:
    lines = ["| Set (as text) | Entry requests recognised | False accepts |", "| --- | --- | --- |"]
    lines += [f"| {name} | {s['entry_recognised']} / {s['entry']} | {s['false_accepts']} / {s['non_entry']} |"
              for name, s in scores.items()]
    for name, s in scores.items():
        lines += [f"missed ({name}): {r['sentence']} ({r['intent']})" for r in s["misses"]]
        lines += [f"false accept ({name}): {r['sentence']} ({r['intent']})" for r in s["false_accept_rows"]]
    return "\n".join(lines)


def judge_options(options: HoldoutOptions):
    """The judge Whisper's settings: faster-whisper's own decoding, none of the gate's (prompt, hotwords,
    10-s window, greedy, VAD, decode bound), on ``judge_model``'s weights when given."""
    from dabai.speech.asr import ASROptions

    return ASROptions(model=options.judge_model, threads=options.threads, prompt="", hotwords="", window_s=30.0,
                      beam_size=5, vad=False, max_tokens_per_second=0.0)


def _names(names: dict[str, str], config, options: HoldoutOptions, log) -> dict:
    """Greetings of unseen names, said with the registered reading and without one (the name's own
    reading), heard back by the judge, compared with the registered reading as tonal pinyin."""
    from dabai.gate.names import find_name, heard_readings, name_position
    from dabai.gate.replies import greeting_text
    from dabai.speech.asr import get_recognizer
    from dabai.speech.names import name_reading
    from dabai.speech.tts import TTSOptions, synthesize

    judge = get_recognizer(judge_options(options))
    out = {}
    for mode in ("registered", "default"):
        rows, errors, total = [], 0, 0
        for name, reading in names.items():
            said = reading if mode == "registered" else " ".join(name_reading(name))
            greeting = greeting_text(config, name)
            audio = synthesize(greeting, rate=16000, readings={name: said},
                               options=TTSOptions(engine="kokoro", threads=options.threads))
            text = judge.transcribe(audio).text
            expected = tuple(reading.split())
            e, heard = find_name(expected, heard_readings(text), name_position(greeting, name))
            errors, total = errors + e, total + len(expected)
            rows.append({"name": name, "reading": reading, "said": said, "heard_text": text, "heard": " ".join(heard),
                         "errors": e})
        ser = errors / total if total else 0.0
        log(f"names ({mode} reading): tonal-pinyin syllable error {ser:.1%} ({errors}/{total})")
        out[mode] = {"syllable_error_rate": round(ser, 4), "errors": errors, "syllables": total, "rows": rows}
    judge_name = (f"{options.judge_model}" if options.judge_model else "the gate's Whisper base weights") + \
        " with faster-whisper's own decoding (no prompt, no hotwords, 30-s window, beam 5, no VAD)"
    return {**out["registered"], "default_reading": out["default"], "judge": judge_name}


def _babble(bank, n: int, seed: int) -> np.ndarray:
    """Several talkers at once: each bank clip, looped to ``n`` samples from a seeded offset, summed."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, np.float64)
    for clip in bank:
        samples = clip.samples.astype(np.float64)
        samples = samples / (np.sqrt(np.mean(samples * samples)) + 1e-12)
        reps = int(np.ceil((n + len(samples)) / len(samples)))
        looped = np.tile(samples, reps)
        start = int(rng.integers(0, len(samples)))
        out += looped[start:start + n]
    return out


def _dump(path, data: dict) -> None:
    if path is not None:
        import json
        from pathlib import Path

        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _share(rows: list[dict], key: str = "accepted") -> float:
    return round(sum(r[key] for r in rows) / len(rows), 4) if rows else 0.0


def _row(base: dict, t, retry, config) -> dict:
    """A benchmark row from the turn's Transcript and, when the gate asked again, the second one's."""
    row = {**base, "heard": t.text, "intent": t.intent, "heard_intent": t.heard_intent,
           "unsure_probability": t.unsure_probability}
    if t.sound_checks:
        row["sound_checks"] = t.sound_checks
    if retry is not None:
        row.update(retry_heard=retry.text, retry_intent=retry.intent, retry_unsure_probability=retry.unsure_probability)
    return _decided(row, config)


def _decided(row: dict, config) -> dict:
    """``entry``: taken at once; ``reask``: asked again; ``accepted``: taken at once or on the second try;
    ``old_entry``: taken by the rule before the re-ask rule (the text's intent as heard)."""
    from dabai.gate.decision import is_entry_request
    from dabai.speech.intent import UNCLEAR

    entry, reask = is_entry_request(row["intent"], config), row["intent"] == UNCLEAR
    return {**row, "entry": entry, "reask": reask,
            "accepted": entry or reask and is_entry_request(row.get("retry_intent"), config),
            "old_entry": is_entry_request(row.get("heard_intent", row["intent"]), config)}


def _redecide(text: str, unsure: float | None, grammar) -> tuple[str, str]:
    """(the text's intent, the spoken decision) with ``grammar``, from a saved transcript and the probability
    its run measured for the unexplained characters before the request (None: not measured, unsure)."""
    from dabai.speech.intent import confirm_heard, heard_turn, recognize_intent
    from dabai.speech.pinyin import han_chars

    match = recognize_intent(text, grammar)
    probability = None if unsure is None else [unsure] * len(han_chars(text))
    spoken = heard_turn(match, grammar.spec.asr_prompt, grammar.spec.asr_hotwords)
    return match.intent, confirm_heard(spoken, probability, grammar).intent


def format_holdout(result: dict) -> str:
    t = TARGETS
    lines = ["| Metric | Measured | Target |", "| --- | --- | --- |",
             f"| Entry requests recognised ({result['entry_clips']} clips) | {result['entry_recognised']:.1%} | "
             f"≥ {t['entry_recognised']:.0%} |",
             f"| … taken at once / asked again | {result['entry_first_try']:.1%} / {result['entry_reasks']} | — |",
             f"| False accepts / non-entry clips (at once or on the second try) | {result['false_accepts']} / "
             f"{result['non_entry_clips']} | 0 |",
             f"| … non-entry clips asked again | {result['non_entry_reasks']} | — |",
             f"| Before the re-ask rule: entry requests / false accepts | "
             f"{result['before_reask_rule']['entry_recognised']:.1%} / {result['before_reask_rule']['false_accepts']} | — |",
             f"| ASR real-time factor, whole run (wall) | {result['asr_rtf']:.3f} | ≤ {t['asr_rtf']} |",
             f"| ASR CPU seconds per audio second | {result['asr_cpu_rtf']:.3f} | — |"]
    if result["names"]:
        n = result["names"]
        d = n["default_reading"]
        lines.append(f"| Names: tonal-pinyin syllable error ({len(n['rows'])} unseen names), registered reading | "
                     f"{n['syllable_error_rate']:.1%} ({n['errors']}/{n['syllables']}) | ≤ {t['name_syllable_error']:.0%} |")
        lines.append(f"| … no reading registered (the name's own reading) | "
                     f"{d['syllable_error_rate']:.1%} ({d['errors']}/{d['syllables']}) | ≤ {t['name_syllable_error']:.0%} |")
    lines.append("")
    lines.append("Per voice: " + ", ".join(f"{v} {a:.0%}" for v, a in result["per_voice"].items()))
    lines.append("Per condition: " + ", ".join(f"{c} {a:.0%}" for c, a in result["per_condition"].items()))
    lines.append("Per phrasing: " + ", ".join(f"{s} {a:.0%}" for s, a in result["per_phrasing"].items()))
    for r in result["misses"]:
        lines.append(f"missed: {r['voice']} {r['condition']}: {r['sentence']} → heard {r['heard']!r} ({r['intent']})")
    for r in result["false_accept_rows"]:
        lines.append(f"false accept: {r['voice']} {r['condition']}: {r['sentence']} → {r['heard']!r} ({r['intent']})")
    for r in result.get("reask_rows", []):
        again = f"; again: {r['retry_heard']!r} ({r['retry_intent']})" if r.get("retry_heard") is not None else ""
        lines.append(f"asked again: {r['voice']} {r['condition']}: {r['sentence']} → {r['heard']!r} "
                     f"(p={r['unsure_probability']}){again}")
    if result["names"]:
        for r in [*result["names"]["rows"], *result["names"]["default_reading"]["rows"]]:
            if r["errors"]:
                lines.append(f"name: {r['name']} ({r['reading']}, said {r['said']}) → heard {r['heard']} "
                             f"in {r['heard_text']!r}")
        lines.append(f"names judged by {result['names']['judge']}")
    if result["held_out"].get("rescored"):
        lines.append("rescored with the current grammar on the run's transcripts"
                     + ("" if result["held_out"]["complete"] else
                        f" (a partial run: the {len(result['per_voice'])} voice(s) heard in full)")
                     + "; the checks against the audio (sound-alike matches, a lost negator) need the audio and "
                       "were not repeated: an unsure sound before a request is asked again, as without them")
    lines.append(f"set: {result['held_out']['set']}; subset: {result['held_out']['subset']}; machine: {result['machine']}; "
                 f"targets met: {result['targets_met']}")
    return "\n".join(lines)
