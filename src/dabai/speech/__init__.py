"""dabai.speech"""
