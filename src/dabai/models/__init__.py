"""dabai.models"""
