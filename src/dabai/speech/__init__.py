"""Speech for the gate: hear the Mandarin request, answer with a natural voice.

Everything is imported lazily (``import dabai.speech`` loads no model)::

    from dabai.speech import synthesize, write_wav, transcribe, recognize_intent, ReplyCache

    audio = synthesize("您好，张三，欢迎回家，二维码有效请您通过。")   # Audio(samples, rate=44100)
    write_wav(audio, "welcome.wav")
    t = transcribe("request.wav")            # Transcript(text, intent, confidence, duration_s, …)
    recognize_intent("请让我进入小区").intent  # 'enter'
    cache = ReplyCache(Path("~/.dabai").expanduser())
    cache.render("请正确佩戴口罩")              # → path of a cached WAV (the texts: dabai.gate.config)

Model packs are installed by ``scripts/install_speech_models.sh`` (see
:mod:`dabai.speech.models`); nothing is downloaded at run time.
"""

from __future__ import annotations

from dabai.core.lazy import lazy_exports

_LAZY = {
    "Audio": "dabai.audio.io",
    "read_audio": "dabai.audio.io",
    "write_wav": "dabai.audio.io",
    "synthesize": "dabai.speech.tts",
    "TTSOptions": "dabai.speech.tts",
    "DEFAULT_VOICE": "dabai.speech.tts",
    "transcribe": "dabai.speech.asr",
    "Transcript": "dabai.speech.asr",
    "ASROptions": "dabai.speech.asr",
    "Recognizer": "dabai.speech.asr",
    "recognize_intent": "dabai.speech.intent",
    "IntentMatch": "dabai.speech.intent",
    "IntentGrammar": "dabai.speech.intent",
    "load_grammar": "dabai.speech.intent",
    "ReplyCache": "dabai.speech.cache",
    "available_voices": "dabai.speech.models",
}

__getattr__, __all__ = lazy_exports("dabai.speech", _LAZY)
