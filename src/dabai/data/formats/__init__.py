"""dabai.data.formats"""
