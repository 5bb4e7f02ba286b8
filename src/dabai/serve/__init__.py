"""dabai.serve"""
