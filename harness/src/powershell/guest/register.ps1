# Run once while preparing the Windows base VHDX (elevated), with firstboot.ps1 copied
# to C:\nestbench\firstboot.ps1: OpenSSH Server, the Hyper-V role (its reboot happens
# here, in the image, never during a run) and the first-boot task.
Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0
Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All -NoRestart
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File C:\nestbench\firstboot.ps1'
$trigger = New-ScheduledTaskTrigger -AtStartup
Register-ScheduledTask -TaskName 'nestbench-firstboot' -Action $action -Trigger $trigger -User 'SYSTEM' -RunLevel Highest -Force
New-NetFirewallRule -Name 'nestbench-sshd' -DisplayName 'OpenSSH Server (nestbench)' -Direction Inbound -Protocol TCP -LocalPort 22 -Action Allow
Restart-Computer
