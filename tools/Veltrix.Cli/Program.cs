Console.WriteLine("veltrix");
