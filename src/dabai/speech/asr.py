"""Speech recognition: faster-whisper (CTranslate2) Whisper *base*, int8, Mandarin, with VAD.

::

    from dabai.speech import transcribe
    t = transcribe("visitor.wav")
    t.text, t.intent, t.confidence     # '你好大白，请让我进入小区。', 'enter', 1.0

The model is the assembled Whisper-base pack (see :mod:`dabai.speech.models`)
unless ``ASROptions.model`` names another CTranslate2 Whisper folder, or a hub
id together with ``allow_download=True``. Output is converted to Simplified
Chinese (zhconv). Whisper is prompted with a neutral sentence only; a prompt
that Whisper merely echoes back (it does on unintelligible audio) is dropped.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dabai.audio.dsp import resample
from dabai.audio.io import Audio, read_audio
from dabai.core.errors import ConfigError, DataError, ModelError, require
from dabai.speech.intent import Hearing, IntentGrammar, decide_spoken, echoes_prompt, load_grammar
from dabai.speech.pinyin import han_chars

log = logging.getLogger(__name__)
RATE = 16000  # Whisper's input rate


@dataclass(frozen=True)
class ASROptions:
    model: str | None = None  # CTranslate2 Whisper folder or hub id (None: the whisper-base pack)
    allow_download: bool = False  # allow fetching a hub id (network); never needed for the pack
    language: str = "zh"  # spoken language
    compute_type: str = "int8"  # CTranslate2 quantisation
    beam_size: int = 1  # 1 = greedy (fastest; the temperature fallback still re-decodes bad segments)
    vad: bool = True  # drop non-speech with Silero VAD before decoding
    prompt: str | None = None  # initial prompt (None: the grammar's asr_prompt)
    hotwords: str | None = None  # words Whisper should expect, e.g. "大白，小区" (None: the grammar's asr_hotwords)
    threads: int = 0  # CPU threads (0: all cores, at most 4)
    max_seconds: float = 600.0  # refuse longer recordings (a gate request is seconds long)
    # Encoder window for clips shorter than it. Whisper pads every input to 30 s, so a 2-4 s request paid
    # for 30 s of encoder; CTranslate2 accepts shorter inputs, and 10 s was 3x faster with the same intent
    # accuracy and greeting CER on the speech benchmark (docs/speech.md). 30 restores Whisper's own.
    window_s: float = 10.0
    # A decode's length: at most this many tokens a second of audio, plus 32. Over noise Whisper base sometimes
    # loops on its prompt and hotwords (大白，小区，小区，…) up to its 448-token limit, and again at each temperature
    # of its fallback: 15-20 s for a 2-s clip in holdout_s25. Mandarin speech is under 10 syllables a second, a
    # character one token or two. Session 20: the clips of holdout_s23-s25 decoded again with the bound (30) and
    # without: the same decisions, 9 % less ASR time, the slowest clips 0.3-9 s instead of 6-21 s (docs/speech.md).
    # 0: Whisper's own limit only
    max_tokens_per_second: float = 30.0

    def __post_init__(self):
        if not 1.0 <= self.window_s <= 30.0:
            raise ConfigError(f"the ASR encoder window must be 1 to 30 seconds (Whisper's own is 30), got {self.window_s}")
        if self.max_tokens_per_second < 0:
            raise ConfigError(f"max_tokens_per_second must be 0 (no bound) or more, got {self.max_tokens_per_second}")


@dataclass(frozen=True)
class Transcript:
    text: str  # Simplified-Chinese transcript
    intent: str  # enter, leave, visitor, help … or "none"
    confidence: float  # of the intent decision (see IntentMatch)
    duration_s: float  # length of the audio
    file: str | None = None  # source path, when it was a file
    phrase: str | None = None  # grammar phrase that matched
    asr_seconds: float = 0.0  # wall time of the recognition
    asr_logprob: float | None = None  # mean token log-probability of Whisper's output
    scores: dict[str, float] = field(default_factory=dict)  # every intent's score
    # the grammar's intent for the text; differs from ``intent`` when the request was unsure ("unclear")
    heard_intent: str | None = None
    # the lowest ASR probability of the unexplained characters before the request's phrase, when checked
    unsure_probability: float | None = None
    # sound-alike matches checked against the audio (SoundCheck.to_dict: phrase, heard, said, ratios, verdict …)
    sound_checks: list[dict] = field(default_factory=list)
    # the decode with the prompt and hotwords gave back only them (Whisper's echo), so ``text`` is the decode of
    # the same audio without them (session 16); False: the ordinary decode
    decoded_without_prompt: bool = False

    @property
    def rtf(self) -> float:
        return self.asr_seconds / self.duration_s if self.duration_s else 0.0

    def to_dict(self) -> dict:
        return {
            "file": self.file, "text": self.text, "intent": self.intent, "confidence": self.confidence,
            "phrase": self.phrase, "duration_s": round(self.duration_s, 3), "asr_seconds": round(self.asr_seconds, 3),
            "asr_logprob": self.asr_logprob, "scores": self.scores, "heard_intent": self.heard_intent,
            "unsure_probability": self.unsure_probability, "sound_checks": self.sound_checks,
            "decoded_without_prompt": self.decoded_without_prompt,
        }


class Recognizer:
    """A loaded Whisper model plus an intent grammar; thread-safe, reuse it."""

    def __init__(self, options: ASROptions = ASROptions(), grammar: IntentGrammar | None = None):
        from dabai.speech.models import whisper_model

        fw = require("faster_whisper", "speech")
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # it logs every clip at INFO
        self.options = options
        self.grammar = grammar or load_grammar()
        source = whisper_model(options.model, options.allow_download)
        threads = options.threads or min(4, os.cpu_count() or 1)
        try:
            self.model = fw.WhisperModel(source, device="cpu", compute_type=options.compute_type,
                                         cpu_threads=threads, local_files_only=not options.allow_download)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"{source}: faster-whisper could not load it ({exc})") from None
        _install_window_padding()
        self._lock = threading.Lock()

    def with_options(self, **changes) -> Recognizer:
        """A recognizer that shares this loaded model but decodes with other settings (prompt, beam, VAD…)."""
        fixed = {"model", "allow_download", "compute_type", "threads"} & set(changes)
        if fixed:
            raise ValueError(f"{sorted(fixed)} need a new Recognizer (they change the loaded model)")
        other = object.__new__(Recognizer)
        other.__dict__.update(self.__dict__)
        other.options = replace(self.options, **changes)
        return other

    @property
    def prompt(self) -> str:
        return self.options.prompt if self.options.prompt is not None else self.grammar.spec.asr_prompt

    @property
    def hotwords(self) -> str:
        return self.options.hotwords if self.options.hotwords is not None else self.grammar.spec.asr_hotwords

    def transcribe(self, source: str | Path | Audio) -> Transcript:
        file = None
        if isinstance(source, Audio):
            audio = source
        else:
            file = str(source)
            audio = read_audio(source)
        if len(audio.samples) == 0:
            raise DataError("has no audio samples", file or "<audio>")
        if audio.duration_s > self.options.max_seconds:
            raise DataError(f"is {audio.duration_s:.0f} s long; at most {self.options.max_seconds:.0f} s is accepted "
                            "(split it, or raise ASROptions.max_seconds / --max-seconds)", file or "<audio>")
        start = time.perf_counter()
        audio = resample(audio, RATE) if audio.rate != RATE else audio
        text, logprob, heard_by = self.listen(audio)
        # what the audio says of other texts: encoded only when a sound-alike match or an unsure sound is checked;
        # a transcript that is only the prompt's echo is nothing heard, and has nothing to check
        spoken = decide_spoken(text, self.grammar, heard_by.hearing(audio), self.prompt, self.hotwords)
        match, heard = spoken.match, spoken.heard
        elapsed = time.perf_counter() - start
        return Transcript(text, match.intent, match.confidence, audio.duration_s, file, match.phrase,
                          elapsed, logprob, match.scores, heard.intent, spoken.unsure,
                          [c.to_dict() for c in heard.checks], heard_by is not self)

    def listen(self, audio: Audio) -> tuple[str, float | None, Recognizer]:
        """(text, mean log-probability, the recognizer that decoded it) of 16 kHz audio. A decode that gives back
        only the prompt and hotwords (Whisper's echo: 大白，小区，二维码以下是普通话的句子。 for a clear
        大白，我住二十栋，忘带门卡了，请放我进去) is decoded once more without them, and that decode is taken when it
        is no echo; the recognizer returned is then the one without prompt, whose hearing asks the audio the same
        way."""
        text, logprob = self.recognize_text(audio)
        if (self.prompt or self.hotwords) and echoes_prompt(text, self.prompt, self.hotwords):
            plain = self.with_options(prompt="", hotwords="")
            again, again_logprob = plain.recognize_text(audio)
            if again and not echoes_prompt(again, self.prompt, self.hotwords):
                return again, again_logprob, plain
        return text, logprob, self

    def recognize_text(self, audio: Audio) -> tuple[str, float | None]:
        """Simplified-Chinese text of 16 kHz audio and its mean log-probability."""
        kept = self._decode(audio)
        text = _text_of(kept)
        logprob = float(np.mean([s.avg_logprob for s in kept])) if kept else None
        return text, logprob

    def char_probabilities(self, audio: Audio, text: str) -> list[float] | None:
        """Whisper's probability of each Chinese character of ``text`` (its transcript of 16 kHz ``audio``):
        ``text`` teacher-forced through the decoder after the decode's own prompt and hotwords (one encoder
        pass, one forced decoder pass); a character made of several tokens takes its least probable one.
        None when the audio is longer than one 30-s window."""
        return self.hearing(audio)(text)

    def hearing(self, audio: Audio) -> Hearing:
        """What 16 kHz ``audio`` says of texts: :meth:`char_probabilities` for any text, the audio encoded once
        (on the first text) and each text's forced pass cached. The intent grammar checks sound-alike matches
        with it (GrammarSpec.verify_from)."""
        return _Hearing(self, audio)

    def _decode(self, audio: Audio) -> list:
        """Whisper's segments of 16 kHz audio, prompt echoes beside speech dropped."""
        opts = self.options
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        with self._lock:
            token = _WINDOW_FRAMES.set(int(round(opts.window_s * 100)))  # 100 mel frames per second
            try:
                segments, _info = self.model.transcribe(
                    samples, language=opts.language, beam_size=opts.beam_size, vad_filter=opts.vad,
                    max_new_tokens=max_new_tokens(len(samples) / RATE, opts.max_tokens_per_second),
                    vad_parameters={"min_silence_duration_ms": 500} if opts.vad else None,
                    initial_prompt=self.prompt or None, hotwords=self.hotwords or None,
                    condition_on_previous_text=False, without_timestamps=True,
                )
                segments = list(segments)  # decoding happens here, inside the window setting
            finally:
                _WINDOW_FRAMES.reset(token)
        # an echoed segment beside speech is dropped; a decode that is all echo stays whole, for listen() to decode
        # again without the cue (before session 21 it came back empty, and the turn was refused unheard)
        kept = [s for s in segments if not _echoes_prompt(s.text, self.prompt, self.hotwords)]
        return kept if kept else segments


_MAX_NEW_TOKENS = 224  # half Whisper's 448-token context, openai/whisper's own sample_len: the prompt fits beside it


def max_new_tokens(seconds: float, per_second: float) -> int | None:
    """The decode's token bound for ``seconds`` of audio (ASROptions.max_tokens_per_second), at most 224 (half
    the decoder's context, which faster-whisper otherwise refuses once the prompt is added); None: no bound."""
    if per_second <= 0:
        return None
    return min(int(np.ceil(seconds * per_second)) + 32, _MAX_NEW_TOKENS)


class _Hearing:
    """One clip's audio, encoded at most once, asked how probable each character of a text is (cached per text)."""

    def __init__(self, recognizer: Recognizer, audio: Audio):
        self.recognizer, self.audio = recognizer, audio
        self._encoded = self._tokenizer = None
        self._too_long = False
        self._cache: dict[str, list[float] | None] = {}

    def __call__(self, text: str) -> list[float] | None:
        if text not in self._cache:
            self._cache[text] = self._probabilities(text)
        return self._cache[text]

    def _encode(self) -> None:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_ctranslate2_storage, pad_or_trim

        rec = self.recognizer
        fw, opts = rec.model, rec.options
        self._tokenizer = Tokenizer(fw.hf_tokenizer, True, task="transcribe", language=opts.language)
        features = fw.feature_extractor(np.ascontiguousarray(self.audio.samples, dtype=np.float32))[..., :-1]
        self._frames = features.shape[-1]
        if self._frames > 3000:
            self._too_long = True
            return
        window = int(round(opts.window_s * 100)) if self._frames <= opts.window_s * 100 else 3000
        prompt = self._tokenizer.encode(" " + rec.prompt.strip()) if rec.prompt else []
        self._start = fw.get_prompt(self._tokenizer, prompt, without_timestamps=True, hotwords=rec.hotwords or None)
        with rec._lock:
            self._encoded = fw.model.encode(get_ctranslate2_storage(pad_or_trim(features, window)[None]))

    def _probabilities(self, text: str) -> list[float] | None:
        if self._encoded is None and not self._too_long:
            self._encode()
        if self._too_long:
            return None
        tokenizer = self._tokenizer
        tokens = tokenizer.encode(text)
        if not tokens:
            return None
        rec = self.recognizer
        with rec._lock:
            token_probability = rec.model.model.align(self._encoded, self._start, [tokens],
                                                      self._frames)[0].text_token_probs
        pieces, piece_tokens = tokenizer.split_tokens_on_unicode(tokens)
        probability: list[float] = []
        at = 0
        for piece, these in zip(pieces, piece_tokens):
            p = min(token_probability[at:at + len(these)], default=0.0)
            at += len(these)
            probability += [float(p)] * len(han_chars(piece))
        return probability if len(probability) == len(han_chars(text)) else None


# Mel frames the encoder gets for a segment shorter than that (None: Whisper's 3,000). A context variable,
# so other faster-whisper users in the process (and other threads) keep the stock behaviour.
_WINDOW_FRAMES: ContextVar[int | None] = ContextVar("dabai_whisper_window_frames", default=None)
_WINDOW_LOCK = threading.Lock()


def _install_window_padding() -> None:
    """Route faster-whisper's pad-to-30-s through ``_pad_to_window`` (once; a no-op where no window is set).

    faster-whisper (1.2) pads each segment's features with ``transcribe.pad_or_trim`` to 3,000 frames
    before encoding; it offers no option for a shorter encoder input, which CTranslate2 itself accepts.
    """
    import faster_whisper.transcribe as fwt

    with _WINDOW_LOCK:
        if getattr(fwt.pad_or_trim, "_dabai_window", False):
            return
        original = fwt.pad_or_trim

        def _pad_to_window(array, length: int = 3000, *, axis: int = -1):
            frames = _WINDOW_FRAMES.get()
            if frames and length == 3000 and array.shape[axis] <= frames:
                length = frames  # a short segment: pad to the window only; longer ones keep 30 s
            return original(array, length, axis=axis)

        _pad_to_window._dabai_window = True
        fwt.pad_or_trim = _pad_to_window


_RECOGNIZERS: dict[tuple, Recognizer] = {}
_LOCK = threading.Lock()


def get_recognizer(options: ASROptions = ASROptions(), grammar: IntentGrammar | None = None) -> Recognizer:
    """A process-wide Recognizer for these options (the model loads once)."""
    key = (options, id(grammar) if grammar is not None else None)  # the cached Recognizer keeps grammar alive
    with _LOCK:
        rec = _RECOGNIZERS.get(key)
        if rec is None:
            rec = _RECOGNIZERS[key] = Recognizer(options, grammar)
        return rec


def transcribe(source: str | Path | Audio, options: ASROptions | None = None,
               grammar: IntentGrammar | str | Path | None = None, **overrides) -> Transcript:
    """Transcribe a file or ``Audio`` and recognise its intent (``overrides`` set ASROptions fields)."""
    opts = replace(options or ASROptions(), **overrides)
    if grammar is not None and not isinstance(grammar, IntentGrammar):
        grammar = load_grammar(grammar)
    return get_recognizer(opts, grammar).transcribe(source)


_PUNCT = re.compile(r"[\s，。！？、,.!?；;：:《》“”\"'()（）]")


def _echoes_prompt(text: str, prompt: str | None, hotwords: str | None) -> bool:
    """True when a segment is just (part of) the cue read back, not speech (:func:`echoes_prompt`, the one rule)."""
    said = _PUNCT.sub("", text)
    if not said:
        return True
    # 4+ characters: a user who says just 大白 beside a request is not mistaken for an echo of the hotwords
    return len(han_chars(said)) >= 4 and echoes_prompt(said, prompt or "", hotwords or "")


def _text_of(segments: list) -> str:
    zhconv = require("zhconv", "speech")
    return _tidy(zhconv.convert("".join(s.text for s in segments), "zh-cn"))


def _tidy(text: str) -> str:
    """Full-width Chinese punctuation between Chinese characters; no stray spaces."""
    text = text.strip()
    text = re.sub(r"(?<=[\u3400-\u9fff]),\s*", "，", text)
    text = re.sub(r"(?<=[\u3400-\u9fff])\?\s*", "？", text)
    text = re.sub(r"(?<=[\u3400-\u9fff])!\s*", "！", text)
    text = re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", text)
    return text
