"""dabai.eval"""
