"""dabai.data"""
