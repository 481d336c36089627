from orderflow_tui.cli import main

main()
