"""dabai.gate"""
