"""dabai.export"""
