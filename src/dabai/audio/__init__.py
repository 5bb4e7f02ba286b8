"""dabai.audio"""
