"""dabai.runtime"""
